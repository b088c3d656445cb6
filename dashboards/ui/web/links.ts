/** Where a name leads in the UI: a port to its series, a GPU to its health, a stall to its drill-down. */
import { h } from './dom.js';

const PORT = /^(leaf|spine|nvsw)-\d+\/p\d+$/;
const GPU = /^node-\d+\/gpu-\d+$/;

/** The current range's query (`last=300`), so links keep the range; the shell sets it. */
let rangeQuery = '';
export const setRangeQuery = (q: string): void => {
  rangeQuery = q;
};
const withRange = (path: string) => (rangeQuery ? `${path}?${rangeQuery}` : path);

export const stallHref = (id: string) => withRange(`#/stall/${encodeURIComponent(id)}`);
export const portHref = (port: string) => withRange(`#/port/${port}`);
export const gpuHref = (gpu: string) => withRange(`#/gpus/${gpu}`);
export const jobHref = (job: string) => withRange(`#/jobs/${encodeURIComponent(job)}`);

/** A link for a location when it is something the UI can show, plain text otherwise. */
export function locationLink(location: string): HTMLElement {
  if (PORT.test(location)) return h('a', { href: portHref(location), class: 'mono' }, location);
  if (GPU.test(location)) return h('a', { href: gpuHref(location), class: 'mono' }, location);
  return h('span', { class: 'mono' }, location);
}

export const isPort = (name: string) => PORT.test(name);
export const isGpu = (name: string) => GPU.test(name);
