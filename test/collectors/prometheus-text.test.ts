import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, parsePrometheusTextStrict } from '../../collectors/dcgm/prometheus-text.js';
import { toGpuSamples } from '../../collectors/dcgm/gpu-samples.js';

const fixture = readFileSync(new URL('./fixtures/dcgm-exporter-mixed.txt', import.meta.url), 'utf8');

describe('Prometheus text parser', () => {
  it('parses real dcgm-exporter lines with HELP/TYPE, comments, blank lines and timestamps', () => {
    const r = parsePrometheusText(fixture);
    expect(r.errors).toEqual([]);
    expect(r.samples).toHaveLength(8);
    expect(r.families.get('DCGM_FI_DEV_SM_CLOCK')).toEqual({ type: 'gauge', help: 'SM clock frequency (in MHz).' });
    const mig = r.samples.find((s) => s.name === 'DCGM_FI_PROF_GR_ENGINE_ACTIVE')!;
    expect(mig.labels).toMatchObject({ GPU_I_PROFILE: '1g.10gb', GPU_I_ID: '7', Hostname: 'gsrh100-074', pod: 'text-embedding-predictor-00008-deployment-57946f6c67-vdtjl' });
    expect(mig.value).toBe(0);
    expect(mig.timestamp_ms).toBeUndefined();
    const ts = r.samples.find((s) => s.name === 'DCGM_FI_DEV_GPU_TEMP')!;
    expect(ts).toMatchObject({ value: 61, timestamp_ms: 1767225600000, line: 16 });
    expect(Number.isNaN(r.samples.at(-1)!.value)).toBe(true);
  });

  it('handles escapes, special values and odd spacing', () => {
    const text = [
      'm{a="x\\"y",b="back\\\\slash",c="line\\nbreak",} +Inf',
      'm { a = "1" } -Inf 12',
      'm_total 1.5e3',
      'm2{} nan',
    ].join('\n');
    const r = parsePrometheusTextStrict(text);
    expect(r.samples[0]!.labels).toEqual({ a: 'x"y', b: 'back\\slash', c: 'line\nbreak' });
    expect(r.samples[0]!.value).toBe(Infinity);
    expect(r.samples[1]).toMatchObject({ labels: { a: '1' }, value: -Infinity, timestamp_ms: 12 });
    expect(r.samples[2]!.value).toBe(1500);
    expect(Number.isNaN(r.samples[3]!.value)).toBe(true);
  });

  it('names the line of each error and keeps the good lines', () => {
    const text = ['ok 1', 'bad{a="1" 2', 'ok 2', 'worse{a="1"} twelve', 'ts 1 1.5', '# TYPE ok wibble', 'x{a="\\q"} 1'].join('\n');
    const r = parsePrometheusText(text, 'http://node-0:9400/metrics');
    expect(r.samples.map((s) => s.value)).toEqual([1, 2]);
    expect(r.errors.map((e) => e.message)).toEqual([
      'http://node-0:9400/metrics line 2: expected "," or "}" after label a',
      'http://node-0:9400/metrics line 4: invalid value "twelve" for worse',
      'http://node-0:9400/metrics line 5: invalid timestamp "1.5" (epoch ms expected)',
      'http://node-0:9400/metrics line 6: unknown metric type "wibble"',
      'http://node-0:9400/metrics line 7: invalid escape "\\q" in label a',
    ]);
    expect(() => parsePrometheusTextStrict(text)).toThrow(/line 2/);
  });
});

describe('Prometheus text fast path', () => {
  it('shares one label-set object between lines with the same labels, and reads them like the general parser', () => {
    const text = [
      'a{gpu="0",UUID="GPU-1",x="q\\"z"} 1',
      'b{gpu="0",UUID="GPU-1",x="q\\"z"} 2 1767225600000',
      'c{gpu="0",UUID="GPU-1",x="q\\"z"}  3', // two blanks: the general parser
      'd{gpu="0",UUID="GPU-1",x="q\\"z",} 4',
    ].join('\r\n');
    const r = parsePrometheusTextStrict(text);
    expect(r.samples.map((s) => [s.name, s.value, s.timestamp_ms, s.line])).toEqual([
      ['a', 1, undefined, 1], ['b', 2, 1767225600000, 2], ['c', 3, undefined, 3], ['d', 4, undefined, 4],
    ]);
    expect(r.samples[0]!.labels).toEqual({ gpu: '0', UUID: 'GPU-1', x: 'q"z' });
    expect(r.samples[1]!.labels).toBe(r.samples[0]!.labels);
    expect(r.samples[3]!.labels).toEqual(r.samples[0]!.labels);
  });

  it('reports a bad label set on every line that carries it', () => {
    const r = parsePrometheusText('m{a="1",a="2"} 1\nn{a="1",a="2"} 2\nok 3', 'scrape');
    expect(r.errors.map((e) => e.message)).toEqual(['scrape line 1: duplicate label a', 'scrape line 2: duplicate label a']);
    expect(r.samples.map((s) => s.name)).toEqual(['ok']);
  });
});

describe('dcgm samples → GpuSample', () => {
  it('names GPUs from Hostname or hostname, keeps MIG instances apart and skips blanks', () => {
    const { samples } = parsePrometheusText(fixture);
    const r = toGpuSamples(samples, 1_767_000_000_000);
    const byGpu = Object.fromEntries(r.samples.map((g) => [g.gpu, g]));
    expect(Object.keys(byGpu).sort()).toEqual(['6d6d7dc3ce21/gpu-0', 'axa/gpu-0', 'gsrh100-074/gpu-0/mig-7', 'home/gpu-0', 'node-3/gpu-1']);
    expect(byGpu['node-3/gpu-1']).toEqual({
      ts_ms: 1767225600000,
      gpu: 'node-3/gpu-1',
      node: 'node-3',
      uuid: 'GPU-00000000-0000-0000-0000-000000000001',
      model: 'NVIDIA H100 80GB HBM3',
      metrics: { DCGM_FI_DEV_SM_CLOCK: 1980, DCGM_FI_DEV_GPU_TEMP: 61 },
    });
    expect(byGpu['6d6d7dc3ce21/gpu-0']!.ts_ms).toBe(1_767_000_000_000); // no timestamp: the scrape time
    expect(byGpu['home/gpu-0']!.metrics).toEqual({ 'DCGM_EXP_CLOCK_EVENTS_COUNT{clock_event="gpu_idle"}': 2 });
    expect(byGpu['gsrh100-074/gpu-0/mig-7']!.uuid).toBe('GPU-58e8f5ea-13cc-013a-d88f-2bcf5ae8bc77');
    expect(r.blank).toBe(2);
  });

  it('uses the short name of a node-<n> FQDN and the fallback host when no label names one', () => {
    const { samples } = parsePrometheusText(
      'DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-x",Hostname="node-12.cluster.local"} 50\nDCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-y"} 10\nDCGM_FI_DEV_NVSWITCH_TEMP{nvswitch="0"} 40',
    );
    const r = toGpuSamples(samples, 1, 'gpu-box');
    expect(r.samples.map((g) => g.gpu)).toEqual(['node-12/gpu-3', 'gpu-box/gpu-0']);
    expect(r.skipped).toBe(1);
  });
});
