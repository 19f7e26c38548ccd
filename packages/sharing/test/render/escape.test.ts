import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, markdownText, terminalText, toCsv } from '../../src/render/escape.js';

describe('csvCell (OWASP CSV injection, RFC 4180)', () => {
  it('neutralises cells that start a formula, quotes what needs quoting, leaves numbers alone', () => {
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tTAB')).toBe("'\tTAB");
    expect(csvCell('\rCR')).toBe('"\'\rCR"');
    expect(csvCell('=HYPERLINK("evil.example","x")')).toBe('"\'=HYPERLINK(""evil.example"",""x"")"');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('new\nline')).toBe('"new\nline"');
    expect(csvCell('/d/=x')).toBe('/d/=x');
    expect(csvCell('')).toBe('');
    expect(csvCell(-4096)).toBe('-4096');
    expect(csvCell(0)).toBe('0');
  });

  it('records end in CRLF, documents are header + rows', () => {
    expect(csvLine(['a', 1, '=b'])).toBe("a,1,'=b\r\n");
    expect(
      toCsv(
        ['x', 'y'],
        [
          ['1', 2],
          ['-', ''],
        ],
      ),
    ).toBe("x,y\r\n1,2\r\n'-,\r\n");
  });
});

describe('markdownText', () => {
  it('escapes HTML, links, images, emphasis, code and pipes; lone CR and LF become spaces', () => {
    expect(markdownText('<img src=x onerror=alert(1)>')).toBe('\\<img src\\=x onerror\\=alert\\(1\\)\\>');
    expect(markdownText('[click](www.evil.example)')).toBe('\\[click\\]\\(www\\.evil.example\\)');
    expect(markdownText('a|b|c')).toBe('a\\|b\\|c');
    expect(markdownText('line\rbreak')).toBe('line break');
    expect(markdownText('new\nline\r\nend\u2028x')).toBe('new line end x');
    expect(markdownText('https://evil.example')).toBe('https\\://evil.example');
    expect(markdownText('me@evil.example')).toBe('me\\@evil.example');
    expect(markdownText('`code` *b* _i_ ~s~ \\')).toBe('\\`code\\` \\*b\\* \\_i\\_ \\~s\\~ \\\\');
    expect(markdownText('/usr/lib/libc.so.6')).toBe('/usr/lib/libc.so.6');
    expect(markdownText('\u001b[2J\tx')).toBe('\\\\x1b\\[2J\\\\x09x');
  });

  it('a table row keeps its cells whatever the text holds', () => {
    const row = `| ${markdownText('x|y\r| z')} | 1 |`;
    // Unescaped pipes: the row's own three.
    expect(row.match(/(?<!\\)\|/g)).toHaveLength(3);
    expect(row).not.toMatch(/[\r\n]/);
  });
});

describe('terminalText', () => {
  it('shows C0, DEL, C1 and bidi controls as escapes instead of sending them', () => {
    expect(terminalText('\u001b]0;pwned\u0007title')).toBe('\\x1b]0;pwned\\x07title');
    expect(terminalText('\u001b[2Jclear')).toBe('\\x1b[2Jclear');
    expect(terminalText('\u009b31mred')).toBe('\\x9b31mred');
    expect(terminalText('a\rb\nc\td\u007f')).toBe('a\\x0db\\x0ac\\x09d\\x7f');
    expect(terminalText('abc\u202edcba')).toBe('abc\\u{202e}dcba');
    expect(terminalText('/usr/lib/é')).toBe('/usr/lib/é');
  });
});
