/** A UsageTrigger as the API represents it (snake_case; the JSON output contract). */
export interface UsageTrigger {
  account_sid: string;
  api_version: string;
  callback_method: string;
  callback_url: string;
  current_value: string | null;
  date_created: string | null;
  date_fired: string | null;
  date_updated: string | null;
  friendly_name: string | null;
  recurring: string | null;
  sid: string;
  trigger_by: string;
  trigger_value: string;
  uri: string;
  usage_category: string;
  usage_record_uri: string;
  [extra: string]: unknown;
}

/** One page of the list envelope. */
export interface TriggerPage {
  usage_triggers: UsageTrigger[];
  next_page_uri: string | null;
  page?: number;
  page_size?: number;
  [extra: string]: unknown;
}

/** The field order of a trigger in csv output and --fields help. */
export const TRIGGER_FIELDS = [
  'sid',
  'account_sid',
  'friendly_name',
  'usage_category',
  'trigger_by',
  'trigger_value',
  'current_value',
  'recurring',
  'callback_url',
  'callback_method',
  'date_created',
  'date_updated',
  'date_fired',
  'api_version',
  'uri',
  'usage_record_uri',
] as const;

// The SID patterns are Twilio rules: they live in src/rules.ts with the others.
export { ACCOUNT_SID_RE, API_KEY_SID_RE, TRIGGER_SID_RE } from '../rules.js';
