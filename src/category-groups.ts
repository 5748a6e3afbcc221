/** Prefix -> short group label shown beside a category in the wizard and `utrig categories`. */
const GROUPS: [RegExp, string][] = [
  [/^totalprice$/, 'Total'],
  [/^(sms|smsmessages|a2p|shortcodes|small-?group|channels-sms|tollfree-verification)/, 'SMS'],
  [/^mms/, 'MMS'],
  [/^(calls|call-|voice|programmablevoice|pstnconnectivity|trunking|ivr|answering-machine|amazon-polly|tts|recordings|transcriptions|agent-conference|conference|sip|twiml|media-)/, 'Voice'],
  [/^(marketplace|marketplay)/, 'Marketplace'],
  [/^wireless/, 'Wireless'],
  [/^(pv|pvideo|video|rooms|group-rooms|turnmegabytes|ip-messaging-bandwidth)/, 'Video'],
  [/^(authy|verify|account-security)/, 'Verify'],
  [/^(lookup|carrier-lookups|calleridlookups)/, 'Lookup'],
  [/^(conversations|conversational|pchat|chat|ip-messaging|channels)/, 'Messaging'],
  [/^(flex|agent-copilot)/, 'Flex'],
  [/^(phonenumbers|numbers)/, 'Numbers'],
  [/^(pfax|fax)/, 'Fax'],
  [/^(ai-|autopilot|audience|live|advisory)/, 'AI & Intelligence'],
  [/^(studio|taskrouter|task|sync|notify|proxy|functions|serverless|twilio-interconnect|runtime)/, 'Platform'],
];

/** The group a usage category belongs to, e.g. "sms-outbound-longcode" -> "SMS". */
export function categoryGroup(category: string): string {
  for (const [re, label] of GROUPS) if (re.test(category)) return label;
  return 'Other';
}
