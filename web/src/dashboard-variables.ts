/**
 * Dashboard variables in the UI: `$source` in a panel query stands for the
 * filter of the option picked in the dashboard's toolbar, kept in the URL as
 * `?var-source=import` so a link reproduces the view; the first option when
 * none is picked. The server stores variables with the dashboard (src/analytics/dashboard-schema.ts); the tests expand panels with this module, as the UI does.
 */
import type { Dashboard, DashboardVariable, Panel } from './types.ts';

const REFERENCE = /\$([A-Za-z][A-Za-z0-9_]*)/g;

/** The URL parameter that holds a variable's choice. */
export function variableParam(name: string): string {
  return `var-${name}`;
}

/** The chosen option id of each variable, from the URL. */
export function chosenVariables(dashboard: Dashboard, search: URLSearchParams): Record<string, string | undefined> {
  const chosen: Record<string, string | undefined> = {};
  for (const v of dashboard.variables ?? []) chosen[v.name] = search.get(variableParam(v.name)) ?? undefined;
  return chosen;
}

function optionOf(variable: DashboardVariable, id: string | undefined) {
  return variable.options.find((o) => o.id === id) ?? variable.options[0];
}

function expand(text: string, variables: readonly DashboardVariable[], chosen: Record<string, string | undefined>) {
  return text.replace(REFERENCE, (whole, name: string) => {
    const variable = variables.find((v) => v.name === name);
    const option = variable ? optionOf(variable, chosen[name]) : undefined;
    return option ? `(${option.filter})` : whole;
  });
}

/** Expanded panels by panel object: the same object on every render keeps PanelView's memos and chart still. */
const expanded = new WeakMap<Panel, { key: string; panel: Panel }>();

/** The panel as it runs: query and funnel steps with the dashboard's variables expanded. */
export function expandPanel(panel: Panel, dashboard: Dashboard, chosen: Record<string, string | undefined>): Panel {
  const variables = dashboard.variables ?? [];
  if (variables.length === 0) return panel;
  const key = JSON.stringify([variables, chosen]);
  const hit = expanded.get(panel);
  if (hit?.key === key) return hit.panel;
  const next = expandUncached(panel, variables, chosen);
  expanded.set(panel, { key, panel: next });
  return next;
}

function expandUncached(
  panel: Panel,
  variables: readonly DashboardVariable[],
  chosen: Record<string, string | undefined>,
): Panel {
  return {
    ...panel,
    ...(panel.query === undefined ? {} : { query: expand(panel.query, variables, chosen) }),
    ...(panel.funnel === undefined
      ? {}
      : {
          funnel: {
            ...panel.funnel,
            steps: panel.funnel.steps.map((s) => ({ ...s, filter: expand(s.filter, variables, chosen) })),
          },
        }),
  };
}
