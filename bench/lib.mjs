// Shared by the benches that serve synthetic trigger pages.

/** Trigger number i of `account`, as the API returns it (the benches' paging servers). */
export function pagedTrigger(account, i) {
  const sid = 'UT' + i.toString(16).padStart(32, '0');
  return {
    account_sid: account, api_version: '2010-04-01', callback_method: 'POST', callback_url: 'https://example.com/hook',
    current_value: '0', date_created: 'Mon, 23 Nov 2026 12:00:00 +0000', date_fired: null, date_updated: 'Mon, 23 Nov 2026 12:00:00 +0000',
    friendly_name: `trigger ${i}`, recurring: null, sid, trigger_by: 'usage', trigger_value: String(i), usage_category: 'sms',
    uri: `/2010-04-01/Accounts/${account}/Usage/Triggers/${sid}.json`, usage_record_uri: `/2010-04-01/Accounts/${account}/Usage/Records.json?Category=sms`,
  };
}
