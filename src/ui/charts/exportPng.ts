/**
 * Saves what a chart card shows as a PNG, entirely in the page: the recharts SVGs are serialised
 * and the canvas charts (LineCanvas) copied, drawn onto one canvas (title above, legend below) and
 * downloaded. No network involved.
 */
import { downloadBlob, safeFileName } from '../format.ts';

export interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
  band?: boolean;
}

const FONT = '-apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('the chart could not be rendered to an image'));
    img.src = src;
  });
}

function svgToDataUrl(svg: SVGSVGElement): { url: string; width: number; height: number } {
  const box = svg.getBoundingClientRect();
  const width = Math.max(1, Math.round(box.width));
  const height = Math.max(1, Math.round(box.height));
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  clone.setAttribute('style', `font-family: ${FONT}; font-size: 12px; background: #fff`);
  // Tooltips and cursors are transient: leave them out of the picture.
  clone.querySelectorAll('.recharts-tooltip-cursor, .recharts-active-dot').forEach((n) => n.remove());
  const text = new XMLSerializer().serializeToString(clone);
  return { url: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`, width, height };
}

export async function exportChartPng(
  container: HTMLElement,
  title: string,
  legend: LegendItem[] = [],
  subtitle?: string,
): Promise<void> {
  const charts = [
    ...container.querySelectorAll<SVGSVGElement | HTMLCanvasElement>(
      '.recharts-wrapper > svg, canvas.line-canvas-surface',
    ),
  ].filter((s) => s.getBoundingClientRect().width > 40);
  if (charts.length === 0) throw new Error('there is no chart to export yet');
  const parts = await Promise.all(
    charts.map(async (el) => {
      if (el instanceof HTMLCanvasElement) {
        const box = el.getBoundingClientRect();
        return { img: el as CanvasImageSource, width: Math.round(box.width), height: Math.round(box.height) };
      }
      const { url, width, height } = svgToDataUrl(el);
      return { img: (await loadImage(url)) as CanvasImageSource, width, height };
    }),
  );
  const scale = 2;
  const pad = 16;
  const gap = 16;
  const chartsW = parts.reduce((s, p) => s + p.width, 0) + gap * (parts.length - 1);
  const chartsH = Math.max(...parts.map((p) => p.height));
  const width = Math.max(chartsW + 2 * pad, 360);

  // Lay the legend out in rows before sizing the canvas.
  const measure = document.createElement('canvas').getContext('2d')!;
  measure.font = `12px ${FONT}`;
  const rows: { item: LegendItem; x: number }[][] = [[]];
  let x = pad;
  for (const item of legend) {
    const w = 26 + measure.measureText(item.label).width + 18;
    if (x + w > width - pad && rows[rows.length - 1].length) {
      rows.push([]);
      x = pad;
    }
    rows[rows.length - 1].push({ item, x });
    x += w;
  }
  const titleH = 28 + (subtitle ? 18 : 0);
  const legendH = legend.length ? rows.length * 20 + 8 : 0;
  const height = pad + titleH + chartsH + legendH + pad;

  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw on a canvas');
  ctx.scale(scale, scale);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#1d2733';
  ctx.font = `600 15px ${FONT}`;
  ctx.textBaseline = 'top';
  ctx.fillText(title, pad, pad);
  if (subtitle) {
    ctx.fillStyle = '#5b6776';
    ctx.font = `12px ${FONT}`;
    ctx.fillText(subtitle, pad, pad + 22);
  }
  let cx = pad;
  for (const p of parts) {
    ctx.drawImage(p.img, cx, pad + titleH, p.width, p.height);
    cx += p.width + gap;
  }
  ctx.font = `12px ${FONT}`;
  ctx.textBaseline = 'middle';
  rows.forEach((row, r) => {
    const y = pad + titleH + chartsH + 8 + r * 20 + 8;
    for (const { item, x: lx } of row) {
      ctx.strokeStyle = item.color;
      ctx.fillStyle = item.color;
      if (item.band) {
        ctx.globalAlpha = 0.3;
        ctx.fillRect(lx, y - 5, 20, 10);
        ctx.globalAlpha = 1;
      } else {
        ctx.lineWidth = 2.5;
        ctx.setLineDash(item.dashed ? [4, 3] : []);
        ctx.beginPath();
        ctx.moveTo(lx, y);
        ctx.lineTo(lx + 20, y);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      ctx.fillStyle = '#1d2733';
      ctx.fillText(item.label, lx + 26, y);
    }
  });
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the PNG could not be encoded');
  downloadBlob(`${safeFileName(title)}.png`, blob);
}
