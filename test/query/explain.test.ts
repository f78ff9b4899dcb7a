import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explainFilter, explainQuery, parseFilter, parseQuery } from '../../src/query/index.ts';

const LAST_HOUR = { fromMs: Date.parse('2025-06-28T13:30:00Z'), toMs: Date.parse('2025-06-28T14:30:00Z') };

describe('explainQuery', () => {
  it('explains the error-rate query step by step', () => {
    const query = parseQuery(
      'event.type:api_request | stats count() as total, countif(event.outcome:failure) as errors by http.route' +
        ' | eval errorRate = errors * 100.0 / total | where errorRate > 1 | sort errorRate desc | limit 10',
    );
    assert.equal(
      explainQuery(query, LAST_HOUR),
      'Find events where event.type is "api_request", from 2025-06-28T13:30:00.000Z to 2025-06-28T14:30:00.000Z.' +
        ' Then compute count as total and count of events where event.outcome is "failure" as errors, grouped by http.route.' +
        ' Then compute errors * 100 / total as errorRate.' +
        ' Then keep rows where errorRate > 1.' +
        ' Then sort by errorRate descending.' +
        ' Then keep the first 10 rows.',
    );
  });

  it('explains a payment-success filter with an AND and no time range', () => {
    assert.equal(
      explainQuery(parseQuery('event.type:payment_transaction AND event.outcome:success')),
      'Find events where event.type is "payment_transaction" and event.outcome is "success".',
    );
  });

  it('explains match-all, default names, percentiles and bins', () => {
    const query = parseQuery(
      '| stats p95(event.duration), sum(transaction.amount) as revenue, dc(user.id), count() by http.route, bin(@timestamp, 5m)' +
        ' | sort revenue | limit 1',
    );
    assert.equal(
      explainQuery(query, LAST_HOUR),
      'Find all events from 2025-06-28T13:30:00.000Z to 2025-06-28T14:30:00.000Z.' +
        ' Then compute 95th percentile of event.duration as p95_event.duration, sum of transaction.amount as revenue,' +
        ' distinct count of user.id as dc_user.id and count, grouped by http.route and @timestamp in 5m buckets.' +
        ' Then sort by revenue ascending.' +
        ' Then keep the first row.',
    );
  });

  it('speaks of events before stats and of rows after', () => {
    assert.equal(
      explainQuery(parseQuery('| where event.duration >= 1000 or not (a = "x") | fields a, b | limit 5')),
      'Find all events. Then keep events where event.duration >= 1000 or not a = "x". Then keep only the fields a and b.' +
        ' Then keep the first 5 events.',
    );
  });
});

describe('explainQuery: countif', () => {
  it('renders countif over everything and over a negation', () => {
    assert.equal(
      explainQuery(parseQuery('status:(>=500 or 404) | stats countif(*) as n, countif(NOT a:1) as m')),
      'Find events where status is at least 500 or status is "404".' +
        ' Then compute count of all events as n and count of events where a is not "1" as m.',
    );
  });
});

describe('explainFilter', () => {
  it('renders each kind of term', () => {
    assert.equal(explainFilter(parseFilter('url.path:/api/cart/*')), 'url.path matches /api/cart/*');
    assert.equal(explainFilter(parseFilter('security.fraud_indicators:*')), 'has security.fraud_indicators');
    assert.equal(explainFilter(parseFilter('payment.risk_score:>75')), 'payment.risk_score is greater than 75');
    assert.equal(explainFilter(parseFilter('payment.risk_score:>=80')), 'payment.risk_score is at least 80');
    assert.equal(explainFilter(parseFilter('x:<3 y:<=3')), 'x is less than 3 and y is at most 3');
    assert.equal(explainFilter(parseFilter('timeout')), 'text contains "timeout"');
    assert.equal(explainFilter(parseFilter('"payment failed"')), 'text contains "payment failed"');
    assert.equal(explainFilter(parseFilter('message:"a*"')), 'message is "a*"');
  });

  it('renders negations and nesting with parentheses where needed', () => {
    assert.equal(
      explainFilter(parseFilter('NOT event.outcome:success AND NOT x:* AND NOT timeout AND NOT n:>1')),
      'event.outcome is not "success" and does not have x and text does not contain "timeout" and n is not greater than 1',
    );
    assert.equal(
      explainFilter(parseFilter('a:1 AND (b:2 OR NOT (c:3 AND d:4))')),
      'a is "1" and (b is "2" or not (c is "3" and d is "4"))',
    );
  });
});
