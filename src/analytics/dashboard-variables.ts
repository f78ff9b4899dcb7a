/**
 * Dashboard variables: `$source` in a panel query stands for the filter of
 * the option the viewer picked (`?var-source=import` in the dashboard's URL),
 * the first option when none is picked. The prebuilt business dashboards use
 * one to keep imported CSV files (`_index:import-*`) apart from live events
 * by default. The UI expands them the same way (web/src/dashboard-variables.ts).
 */
import type { Dashboard, DashboardVariable, Panel } from './dashboard-schema.ts';

/** `$name` where the name is a declared variable (`$interval` is the time bucket's, expanded elsewhere). */
const REFERENCE = /\$([A-Za-z][A-Za-z0-9_]*)/g;

/** The option of `variable` with id `chosenId`, or its first (the default). */
export function chosenOption(
  variable: DashboardVariable,
  chosenId: string | undefined,
): DashboardVariable['options'][number] {
  return (
    variable.options.find((o) => o.id === chosenId) ?? (variable.options[0] as DashboardVariable['options'][number])
  );
}

/** `text` with every declared `$name` replaced by `(filter of the chosen option)`. */
export function expandVariables(
  text: string,
  variables: readonly DashboardVariable[] | undefined,
  chosen: Readonly<Record<string, string | undefined>> = {},
): string {
  if (!variables || variables.length === 0) return text;
  return text.replace(REFERENCE, (whole, name: string) => {
    const variable = variables.find((v) => v.name === name);
    return variable ? `(${chosenOption(variable, chosen[name]).filter})` : whole;
  });
}

/** The panel as it runs: its query and funnel steps with the dashboard's variables expanded. */
export function expandPanel(
  panel: Panel,
  dashboard: Pick<Dashboard, 'variables'>,
  chosen: Readonly<Record<string, string | undefined>> = {},
): Panel {
  const vars = dashboard.variables;
  return {
    ...panel,
    ...(panel.query === undefined ? {} : { query: expandVariables(panel.query, vars, chosen) }),
    ...(panel.funnel === undefined
      ? {}
      : {
          funnel: {
            ...panel.funnel,
            steps: panel.funnel.steps.map((s) => ({ ...s, filter: expandVariables(s.filter, vars, chosen) })),
          },
        }),
  };
}
