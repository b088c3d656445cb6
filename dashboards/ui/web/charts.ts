/**
 * Charts, drawn by Apache ECharts (only the parts used are bundled). One look for every
 * chart, UTC time axes, and drag-to-zoom on time charts that sets the view's time range.
 */
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, ToolboxComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { clock } from './format.js';

echarts.use([LineChart, BarChart, HeatmapChart, ScatterChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, ToolboxComponent, VisualMapComponent, MarkAreaComponent, CanvasRenderer]);

type Option = echarts.EChartsCoreOption;
export type Formatter = (v: number) => string;

export const PALETTE = ['#4f9dff', '#f5a524', '#3ccf91', '#ef5f6b', '#a78bfa', '#22d3ee', '#f472b6', '#a3e635', '#fb923c', '#94a3b8', '#2dd4bf', '#facc15'];
const AXIS = '#8b95a7';
const GRID_LINE = '#232a36';
const TEXT = '#c8d0dc';

const tooltipStyle = {
  backgroundColor: '#111722',
  borderColor: '#2b3443',
  textStyle: { color: TEXT, fontSize: 12 },
  confine: true,
};

/** Every chart a view made, so switching views disposes of them. */
export class ChartSet {
  private readonly charts = new Set<echarts.ECharts>();
  private readonly observer = new ResizeObserver((entries) => {
    for (const e of entries) echarts.getInstanceByDom(e.target as HTMLElement)?.resize();
  });

  constructor(private readonly onZoom?: (from_ms: number, to_ms: number) => void) {}

  /** A chart in `el`; time charts get drag-to-zoom when the set has a zoom handler. */
  chart(el: HTMLElement, option: Option, opts: { zoomable?: boolean } = {}): echarts.ECharts {
    const existing = echarts.getInstanceByDom(el);
    if (existing) {
      existing.setOption(option, { notMerge: true });
      if (opts.zoomable && this.onZoom) armZoom(existing);
      return existing;
    }
    const chart = echarts.init(el, undefined, { renderer: 'canvas' });
    chart.setOption(option);
    this.charts.add(chart);
    this.observer.observe(el);
    if (opts.zoomable && this.onZoom) {
      const onZoom = this.onZoom;
      armZoom(chart);
      chart.on('datazoom', () => {
        const dz = (chart.getOption() as { dataZoom?: Array<{ startValue?: number; endValue?: number }> }).dataZoom?.[0];
        if (dz?.startValue !== undefined && dz.endValue !== undefined && dz.endValue > dz.startValue) onZoom(Math.round(dz.startValue), Math.round(dz.endValue));
      });
    }
    return chart;
  }

  disposeAll(): void {
    this.observer.disconnect();
    for (const c of this.charts) c.dispose();
    this.charts.clear();
  }
}

/** Leaves the toolbox's box-zoom armed, so a drag on the plot selects a time range. */
function armZoom(chart: echarts.ECharts): void {
  chart.dispatchAction({ type: 'takeGlobalCursor', key: 'dataZoomSelect', dataZoomSelectActive: true });
}

const zoomToolbox = { show: false, feature: { dataZoom: { yAxisIndex: 'none' } } };

/** Round tick steps for a time axis: about six labels, on whole seconds, minutes or hours. */
const TICK_STEPS = [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

/** A numeric axis of epoch milliseconds labelled in UTC: exact ticks, whatever the browser's time zone. */
function timeAxis(range: { from_ms: number; to_ms: number }) {
  const span = range.to_ms - range.from_ms;
  const interval = TICK_STEPS.find((s) => span / s <= 7) ?? 86_400_000;
  return {
    type: 'value',
    min: range.from_ms,
    max: range.to_ms,
    interval,
    axisLine: { show: true, lineStyle: { color: GRID_LINE } },
    axisLabel: { color: AXIS, formatter: (v: number) => clock(v), showMinLabel: false, showMaxLabel: false, hideOverlap: true },
    axisPointer: { label: { formatter: (p: { value: number }) => clock(p.value, true) } },
    splitLine: { show: false },
  };
}

function valueAxis(format: Formatter, extra: Record<string, unknown> = {}) {
  return {
    type: 'value',
    axisLabel: { color: AXIS, formatter: format },
    splitLine: { lineStyle: { color: GRID_LINE } },
    ...extra,
  };
}

export interface Line {
  name: string;
  points: Array<[number, number]>;
  color?: string;
  area?: boolean;
  dashed?: boolean;
}

export interface Marker {
  /** Time ranges shaded on the chart (stalls, faults). */
  from_ms: number;
  to_ms: number;
  label?: string;
}

export function timeSeriesOption(range: { from_ms: number; to_ms: number }, lines: Line[], format: Formatter, opts: { markers?: Marker[]; max?: number; legend?: boolean } = {}): Option {
  const legend = opts.legend ?? lines.length > 1;
  return {
    color: PALETTE,
    animation: false,
    grid: { left: 64, right: 16, top: legend ? 36 : 14, bottom: 28 },
    legend: legend ? { type: 'scroll', top: 0, textStyle: { color: TEXT }, pageTextStyle: { color: AXIS }, itemWidth: 14, itemHeight: 8 } : undefined,
    tooltip: { trigger: 'axis', ...tooltipStyle, valueFormatter: (v: unknown) => (typeof v === 'number' ? format(v) : String(v)) },
    toolbox: zoomToolbox,
    xAxis: timeAxis(range),
    yAxis: valueAxis(format, opts.max !== undefined ? { max: opts.max } : {}),
    series: lines.map((l, i) => ({
      name: l.name,
      type: 'line',
      showSymbol: false,
      sampling: 'lttb',
      data: l.points,
      lineStyle: { width: 1.5, type: l.dashed ? 'dashed' : 'solid' },
      itemStyle: l.color ? { color: l.color } : undefined,
      areaStyle: l.area ? { opacity: 0.12 } : undefined,
      markArea:
        i === 0 && opts.markers?.length
          ? { silent: true, itemStyle: { color: 'rgba(239,95,107,0.10)' }, data: opts.markers.map((m) => [{ xAxis: m.from_ms, name: m.label ?? '' }, { xAxis: m.to_ms }]) }
          : undefined,
    })),
  };
}

/** Rows (e.g. ports) × time buckets, coloured by value. ECharts heatmaps take category axes. */
export function heatmapOption(times: number[], rows: string[], cells: Array<[number, number, number]>, format: Formatter): Option {
  const max = Math.max(1, ...cells.map((c) => c[2]));
  const labels = times.map((t) => clock(t));
  return {
    animation: false,
    grid: { left: 96, right: 84, top: 8, bottom: 28 },
    tooltip: {
      ...tooltipStyle,
      formatter: (p: { value: [number, number, number] }) => `${rows[p.value[1]] ?? ''}<br/>${labels[p.value[0]] ?? ''} · ${format(p.value[2])}`,
    },
    xAxis: { type: 'category', data: labels, axisLabel: { color: AXIS, hideOverlap: true }, axisLine: { lineStyle: { color: GRID_LINE } }, splitArea: { show: false } },
    yAxis: { type: 'category', data: rows, axisLabel: { color: AXIS, fontSize: 11 }, axisLine: { lineStyle: { color: GRID_LINE } }, inverse: true },
    visualMap: {
      min: 0,
      max,
      calculable: false,
      orient: 'vertical',
      right: 4,
      top: 'middle',
      itemHeight: 120,
      textStyle: { color: AXIS, fontSize: 10 },
      formatter: (v: number) => format(v),
      inRange: { color: ['#141b26', '#1f3a5f', '#2f6db5', '#f5a524', '#ef5f6b'] },
    },
    series: [{ type: 'heatmap', data: cells, progressive: 0, emphasis: { itemStyle: { borderColor: '#fff', borderWidth: 1 } } }],
  };
}

export interface Bar {
  label: string;
  value: number;
  color?: string;
}

export function barOption(bars: Bar[], format: Formatter, opts: { horizontal?: boolean } = {}): Option {
  const horizontal = opts.horizontal ?? true;
  const category = { type: 'category', data: bars.map((b) => b.label), axisLabel: { color: AXIS, fontSize: 11 }, axisLine: { lineStyle: { color: GRID_LINE } }, inverse: horizontal };
  const value = valueAxis(format);
  return {
    animation: false,
    grid: { left: horizontal ? 150 : 48, right: 24, top: 10, bottom: 28 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, ...tooltipStyle, valueFormatter: (v: unknown) => (typeof v === 'number' ? format(v) : String(v)) },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? category : value,
    series: [{ type: 'bar', data: bars.map((b) => ({ value: b.value, itemStyle: { color: b.color ?? PALETTE[0] } })), barMaxWidth: 18 }],
  };
}

/** Per-rank timeline: an invisible bar up to when the rank entered, then its time in the call. */
export function rankTimelineOption(ranks: Array<{ label: string; entered_us: number; in_call_us: number; slowest: boolean }>, format: Formatter): Option {
  return {
    animation: false,
    grid: { left: 150, right: 24, top: 28, bottom: 28 },
    legend: { top: 0, textStyle: { color: TEXT }, data: ['entered late by', 'in the collective'] },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, ...tooltipStyle, valueFormatter: (v: unknown) => (typeof v === 'number' ? format(v) : String(v)) },
    xAxis: valueAxis(format),
    yAxis: { type: 'category', inverse: true, data: ranks.map((r) => r.label), axisLabel: { color: AXIS, fontSize: 11 }, axisLine: { lineStyle: { color: GRID_LINE } } },
    series: [
      { name: 'entered late by', type: 'bar', stack: 't', data: ranks.map((r) => r.entered_us), itemStyle: { color: '#f5a524' }, barMaxWidth: 14 },
      {
        name: 'in the collective',
        type: 'bar',
        stack: 't',
        data: ranks.map((r) => ({ value: r.in_call_us, itemStyle: { color: r.slowest ? '#ef5f6b' : '#4f9dff' } })),
        barMaxWidth: 14,
      },
    ],
  };
}
