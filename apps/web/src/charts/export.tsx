/** SVG and PNG export of a chart's <svg> element (styles inlined from computed values). */
import type { RefObject } from 'react';
import { download } from '../components/common';

const STYLE_PROPS = [
  'fill',
  'stroke',
  'stroke-width',
  'font-size',
  'font-family',
  'font-weight',
  'opacity',
  'text-anchor',
  'dominant-baseline',
];

function serialise(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = svg.querySelectorAll('*');
  const dst = clone.querySelectorAll('*');
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const d = dst[i] as SVGElement;
    for (const p of STYLE_PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) d.style.setProperty(p, v);
    }
  });
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const bg = getComputedStyle(document.body).backgroundColor;
  clone.style.background = bg;
  const { width, height } = svg.getBoundingClientRect();
  clone.setAttribute('width', String(Math.ceil(width)));
  clone.setAttribute('height', String(Math.ceil(height)));
  return new XMLSerializer().serializeToString(clone);
}

export function exportSvg(svg: SVGSVGElement, name: string): void {
  download(`${name}.svg`, serialise(svg), 'image/svg+xml');
}

export function exportPng(svg: SVGSVGElement, name: string, scale = 2): void {
  const text = serialise(svg);
  const { width, height } = svg.getBoundingClientRect();
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  img.onload = () => {
    const c = document.createElement('canvas');
    c.width = Math.ceil(width * scale);
    c.height = Math.ceil(height * scale);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = getComputedStyle(document.body).backgroundColor;
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    c.toBlob((b) => b && download(`${name}.png`, b, 'image/png'));
  };
  img.src = url;
}

export function ExportButtons({ target, name }: { target: RefObject<SVGSVGElement | null>; name: string }) {
  return (
    <span className="export-buttons">
      <button
        type="button"
        className="btn small"
        onClick={() => target.current && exportSvg(target.current, name)}
      >
        SVG
      </button>
      <button
        type="button"
        className="btn small"
        onClick={() => target.current && exportPng(target.current, name)}
      >
        PNG
      </button>
    </span>
  );
}
