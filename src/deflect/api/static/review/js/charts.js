/** The analytics charts, as SVG with a title and a description for screen readers. */
import { h, s } from "./dom.js";
import { formatNumber, formatPercent, t } from "./i18n.js";

/** Tick values from 0 to at least `max`, on a 1/2/5 step. */
function ticks(max, count = 4) {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw);
  const values = [];
  for (let value = 0; value < max + step / 2; value += step) values.push(+value.toFixed(10));
  if (values[values.length - 1] < max) values.push(values[values.length - 1] + step);
  return values;
}

function accessibleSvg(id, title, description, width, height, ...children) {
  return s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`, class: "chart-svg", preserveAspectRatio: "xMidYMid meet" },
    s("title", { id: `${id}-title` }, title),
    s("desc", { id: `${id}-desc` }, description),
    ...children,
  );
}

/** Per-day messages, bot answers and handoffs as grouped bars: bars side by side never hide each other. */
export function trendChart(days) {
  const series = [
    { key: "suggestions", color: "var(--c-accent)" },
    { key: "bot_answers", color: "var(--c-good)" },
    { key: "handoffs", color: "var(--c-handoff)" },
  ];
  if (!days.length) return h("p", { className: "muted" }, t("chart.empty"));
  const width = 1040;
  const height = 250;
  const margin = { left: 56, right: 12, top: 12, bottom: 48 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const max = Math.max(1, ...days.flatMap((day) => series.map((bars) => day[bars.key])));
  const yTicks = ticks(max);
  const top = yTicks[yTicks.length - 1];
  const slot = plotWidth / days.length;
  const barWidth = Math.max(1, (slot * 0.8) / series.length);
  const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
  const labelEvery = Math.max(1, Math.ceil(days.length / 10));
  const shortDay = (day) => `${Number(day.slice(5, 7))}/${Number(day.slice(8, 10))}`;

  const grid = yTicks.map((value) =>
    s(
      "g",
      { class: "tick" },
      s("line", { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value), class: "grid" }),
      s("text", { x: margin.left - 8, y: y(value) + 4, "text-anchor": "end" }, formatNumber(value)),
    ),
  );
  const groups = days.map((day, index) => {
    const left = margin.left + index * slot + slot * 0.1;
    const labelled = (days.length - 1 - index) % labelEvery === 0; // always label the latest day
    return s(
      "g",
      { class: "day" },
      series.map((bars, position) =>
        day[bars.key]
          ? s(
              "rect",
              { x: left + position * barWidth, y: y(day[bars.key]), width: barWidth, height: y(0) - y(day[bars.key]), fill: bars.color },
              s("title", {}, `${day.day} · ${t(`series.${bars.key}`)}: ${formatNumber(day[bars.key])}`),
            )
          : null,
      ),
      labelled ? s("text", { x: left + slot * 0.4, y: y(0) + 18, "text-anchor": "middle" }, shortDay(day.day)) : null,
    );
  });
  const totals = series
    .map((bars) => `${t(`series.${bars.key}`)} ${formatNumber(days.reduce((sum, day) => sum + day[bars.key], 0))}`)
    .join(", ");
  const svg = accessibleSvg(
    "trend",
    t("chart.trend"),
    `${t("chart.trendDesc", { from: days[0].day, to: days[days.length - 1].day })} ${totals}.`,
    width,
    height,
    grid,
    groups,
    s("line", { x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0), class: "axis" }),
    s("text", { x: margin.left + plotWidth / 2, y: height - 6, "text-anchor": "middle", class: "axis-label" }, t("axis.day")),
    s(
      "text",
      { x: 14, y: margin.top + plotHeight / 2, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 14 ${margin.top + plotHeight / 2})` },
      t("axis.messages"),
    ),
  );
  const legend = h(
    "ul",
    { className: "legend" },
    series.map((bars) => h("li", {}, h("span", { className: "swatch", style: `background:${bars.color}` }), t(`series.${bars.key}`))),
  );
  return h("div", {}, svg, legend);
}

export function barChart(id, title, rows, axisLabel, color, share = false) {
  if (!rows.length) return h("p", { className: "muted empty-chart" }, t("chart.empty"));
  const width = 520;
  const rowHeight = 26;
  const margin = { left: 168, right: 78, top: 8, bottom: 44 };
  const plotWidth = width - margin.left - margin.right;
  const height = margin.top + rows.length * rowHeight + margin.bottom;
  const max = Math.max(...rows.map((row) => row.value));
  const xTicks = share ? ticks(Math.min(1, max || 1), 4).filter((v) => v <= 1) : ticks(max, 4);
  const top = xTicks[xTicks.length - 1] || 1;
  const x = (value) => margin.left + (value / top) * plotWidth;
  const bottom = margin.top + rows.length * rowHeight;
  const truncate = (text) => (text.length > 22 ? `${text.slice(0, 21)}…` : text);
  const svg = accessibleSvg(
    `bars-${id}`,
    title,
    t("chart.barsDesc", { title, values: rows.map((row) => `${row.label} ${row.text}`).join(", ") }),
    width,
    height,
    xTicks.map((value) =>
      s("g", { class: "tick" }, s("line", { x1: x(value), x2: x(value), y1: margin.top, y2: bottom, class: "grid" }), s("text", { x: x(value), y: bottom + 16, "text-anchor": "middle" }, share ? formatPercent(value, 0) : formatNumber(value))),
    ),
    rows.map((row, index) => {
      const yTop = margin.top + index * rowHeight;
      return s(
        "g",
        { class: "bar" },
        s("title", {}, `${row.label}: ${row.text}`),
        s("text", { x: margin.left - 8, y: yTop + rowHeight / 2 + 4, "text-anchor": "end", class: "bar-label" }, truncate(row.label)),
        s("rect", { x: margin.left, y: yTop + 4, width: Math.max(1, x(row.value) - margin.left), height: rowHeight - 8, rx: 3, fill: color }),
        s("text", { x: x(row.value) + 6, y: yTop + rowHeight / 2 + 4, class: "bar-value" }, row.text),
      );
    }),
    s("line", { x1: margin.left, x2: margin.left, y1: margin.top, y2: bottom, class: "axis" }),
    s("text", { x: margin.left + plotWidth / 2, y: height - 6, "text-anchor": "middle", class: "axis-label" }, axisLabel),
  );
  return svg;
}
