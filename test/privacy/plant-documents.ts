/**
 * Plants card numbers and secrets into every kind of document the API
 * stores (alert rules, dashboards, silences, API key names) for the leak
 * test, and checks what the API answers while doing so.
 */
import assert from 'node:assert/strict';
import { post } from '../helpers/server.ts';
import { CARDS, grouped, PHRASES, SECRETS } from './plants.ts';

const { visaTest, mastercardTest } = CARDS;
const S = SECRETS;

/** Free text carrying one of each: cards (plain, spaced, dashed), `cvv=`, `password=`, a bearer token. */
function plantedText(n: number): string {
  return `#${n} card ${grouped(visaTest, ' ')} or ${grouped(mastercardTest, '-')} ${PHRASES.cvv} password=${S.hunter2} Authorization: Bearer ${S.bearer} token=${S.token}`;
}

/** Plants documents of every kind through the HTTP API and checks that they read back redacted. */
export async function plantDocuments(u: string): Promise<void> {
  const json = { 'content-type': 'application/json' };
  const put = (path: string, body: unknown) =>
    fetch(`${u}${path}`, { method: 'PUT', body: JSON.stringify(body), headers: json });
  // An alert rule: plants in its query, description, labels and annotations.
  const rule = {
    query: `message:"${grouped(visaTest, ' ')}" OR message:"password=${S.hunter2}" | stats count() as n`,
    condition: 'n > 1000000',
    severity: 'P3',
    description: plantedText(1),
    labels: { team: `pay ${visaTest}` },
    annotations: { summary: plantedText(2), runbook: `https://wiki.example/pay?token=${S.token}&cc=${mastercardTest}` },
  };
  const r1 = await put('/api/v1/alerts/rules/leak-rule', rule);
  assert.equal(r1.status, 200, await r1.text());
  // A rule name that is a card number cannot be stored as given (nor stored masked: it would not be found).
  const r2 = await put(`/api/v1/alerts/rules/rule-${visaTest}`, rule);
  assert.equal(r2.status, 400, await r2.clone().text());
  assert.match(((await r2.json()) as any).error.message, /card number or a secret/);
  // A dashboard: plants in its title, description, panel titles and panel queries.
  const dashboard = (id: string) => ({
    id,
    title: `Revenue ${grouped(visaTest, ' ')}`,
    description: plantedText(3),
    panels: [
      {
        id: 'p1',
        title: `Cards ${grouped(mastercardTest, '-')} ${PHRASES.cvv}`,
        type: 'stat',
        query: `message:"${visaTest}" OR message:"password=${S.hunter2}" | stats count()`,
      },
    ],
  });
  const d1 = await put('/api/v1/dashboards/leak-dash', dashboard('leak-dash'));
  assert.equal(d1.status, 200, await d1.text());
  const d2 = await put(`/api/v1/dashboards/d-${visaTest}`, dashboard(`d-${visaTest}`));
  assert.equal(d2.status, 400, await d2.text());
  // A silence: plants in matcher values and the comment.
  const s1 = await post(
    `${u}/api/v1/alerts/silences`,
    JSON.stringify({
      matchers: [
        { name: 'card', value: visaTest },
        { name: 'note', value: `password=${S.hunter2}` },
        { name: 'gateway', value: `stripe|${grouped(mastercardTest, '-')}`, op: '=~' },
      ],
      endsAt: 'now+1h',
      comment: plantedText(4),
    }),
    json,
  );
  assert.equal(s1.status, 201, JSON.stringify(s1.json));
  // An API key's name.
  const k1 = await post(`${u}/api/v1/keys`, JSON.stringify({ role: 'read', name: plantedText(5) }), json);
  assert.equal(k1.status, 201, JSON.stringify(k1.json));
  // The stored documents read back masked: the card's last four digits, the secrets gone.
  const rules = await (await fetch(`${u}/api/v1/alerts/rules/leak-rule`)).json();
  assert.match(JSON.stringify(rules), /\*\*\*\* \*\*\*\* \*\*\*\* 1111/);
  const keys = await (await fetch(`${u}/api/v1/keys`)).json();
  assert.match(JSON.stringify(keys), /password=\[redacted\]/);
}
