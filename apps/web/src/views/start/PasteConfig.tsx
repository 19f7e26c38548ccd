/**
 * The pasted texts of the start page: a mount configuration (its detected format, with an
 * override) and page-cache residency (its detected format); each with a parse error placed at
 * its line (PasteText).
 */
import { useMemo } from 'react';
import { useStore } from '../../state/store';
import { detectedMountFormat, detectedResidencyFormat } from '../../state/start';
import { FormatSelect } from './formats';
import { PasteText } from './PasteText';

export function PasteConfig() {
  const pasted = useStore((s) => s.start.pasted);
  const format = useStore((s) => s.start.pastedFormat);
  const error = useStore((s) => s.start.pasteError);
  const busy = useStore((s) => s.start.busy);
  const setPasted = useStore((s) => s.setPasted);
  const setFormat = useStore((s) => s.setPastedFormat);
  const detected = useMemo(() => detectedMountFormat(pasted), [pasted]);

  return (
    <PasteText
      id="paste-config"
      testid="paste"
      label="Or paste a mount configuration (mountinfo, fstab, …)"
      what="Pasted mount configuration"
      placeholder="/var/lib/images/base.img /run/images/base erofs ro,inode_share,domain_id=tenant-a 0 0"
      text={pasted}
      setText={setPasted}
      error={error}
      format={
        <>
          <span data-testid="paste-format">
            {format === 'auto'
              ? detected
                ? `Read as ${detected} (detected)`
                : 'Format not detected: choose one'
              : `Read as ${format} (your choice)`}
          </span>{' '}
          <FormatSelect
            label="Format of the pasted configuration"
            detected={detected}
            value={format}
            disabled={busy}
            onChange={setFormat}
          />
        </>
      }
    />
  );
}

/** Pasted page-cache residency (docs/working-set.md): its detected format, and a parse error placed at its line. */
export function PasteResidency() {
  const text = useStore((s) => s.start.pastedResidency);
  const error = useStore((s) => s.start.residencyPasteError);
  const setText = useStore((s) => s.setPastedResidency);
  const detected = useMemo(() => detectedResidencyFormat(text), [text]);

  return (
    <PasteText
      id="paste-residency"
      testid="paste-residency"
      label="Or paste page-cache residency (fincore -J or --raw, vmtouch -v, pcstat -json, an access list)"
      what="Pasted residency"
      placeholder="/run/images/base/usr/lib/libc.so.6"
      text={text}
      setText={setText}
      error={error}
      format={
        <span data-testid="paste-residency-format">
          {detected
            ? `Read as ${detected} (detected)`
            : 'Format not detected (fincore -J or --raw, vmtouch -v, pcstat -json, one absolute path per line)'}
        </span>
      }
    />
  );
}
