// Apache ECharts, only the parts the supervisor view draws with (bar and pie on a canvas, grid, legend, canvas-drawn tooltip), and the charts' common look.
import * as echarts from 'echarts/core';
import { BarChart, PieChart, type BarSeriesOption, type PieSeriesOption } from 'echarts/charts';
import {
  GridComponent, LegendComponent, TooltipComponent,
  type GridComponentOption, type LegendComponentOption, type TooltipComponentOption,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = echarts.ComposeOption<
  BarSeriesOption | PieSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>;

export { echarts };

/** The counter's own fonts on the canvas too (Chinese labels must not fall back to a bitmap font). */
export const CHART_FONT =
  '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif';

export const COLORS = {
  brand: '#0d4f8b',
  brandSoft: '#7aa7d1',
  bad: '#c0392b',
  ok: '#2e8b4e',
  warn: '#c77700',
  palette: ['#0d4f8b', '#2e8b4e', '#c77700', '#5b2a86', '#1f8a9e', '#a4161a', '#6b7a8a', '#b5892e'],
};

/** What every chart shares: no animation (a counter PC, and screenshots that do not depend on timing),
 *  the tooltip drawn in the canvas (an HTML tooltip would need inline styles the CSP refuses). */
export function baseOption(): ChartOption {
  return {
    animation: false,
    color: COLORS.palette,
    textStyle: { fontFamily: CHART_FONT, fontSize: 13, color: '#17212b' },
    tooltip: { renderMode: 'richText', confine: true },
  };
}
