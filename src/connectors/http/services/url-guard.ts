// The URL guard lives with the other hostile-input defences.
export {
  assertPublicHost,
  isNonPublicAddress,
  validateWebhookUrl,
  WebhookUrlError,
} from '../../../security/url-guard';
