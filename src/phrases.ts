/**
 * What a message claims to be: notice kinds and the phrases that announce them,
 * in Japanese and English. Pure data; matched after normaliseText() (NFKC, lower
 * case, white space removed), so write phrases in that form's spirit: no spaces
 * are needed between words, full-width and half-width are the same.
 *
 * Order matters when two kinds score the same: the more specific kind comes first.
 */
export const KINDS = ['gift-card', 'card-usage', 'payment', 'order', 'shipping', 'account'] as const
export type NoticeKind = (typeof KINDS)[number]

export const PHRASES: Readonly<Record<NoticeKind, { readonly ja: readonly string[]; readonly en: readonly string[] }>> = {
  'gift-card': {
    ja: ['ギフト券', 'ギフトカード', 'ギフトコード', 'プリペイドカード', 'アマギフ'],
    en: ['gift card', 'giftcard', 'gift certificate', 'gift code', 'egift'],
  },
  'card-usage': {
    ja: ['ご利用確認', 'ご利用のお知らせ', 'カードご利用', 'ご利用内容', '利用明細', 'ご利用代金', '不正利用', 'ご利用の確認'],
    en: ['card activity', 'transaction alert', 'unusual charge', 'card was used', 'card usage', 'card has been used', 'suspicious transaction'],
  },
  payment: {
    ja: ['入金確認', '入金のお知らせ', 'ご入金', 'お支払い', '支払い', '支払方法', '決済', 'ご請求', '請求書', '引き落とし', '返金'],
    en: [
      'payment received',
      'payment confirmation',
      'payment failed',
      'payment declined',
      'payment method',
      'your payment',
      'invoice',
      'billing',
      'refund',
      'receipt',
    ],
  },
  order: {
    ja: ['ご注文', '注文確認', '注文内容', '注文番号', 'ご購入', '購入確認', '受注'],
    en: ['order confirmation', 'your order', 'order number', 'order #', 'order no', 'purchase confirmation', 'thank you for your purchase', 'thanks for your order'],
  },
  shipping: {
    ja: ['発送', '出荷', 'お届け', '配送', '配達', '不在連絡', 'お荷物', '追跡番号'],
    en: ['has shipped', 'shipment', 'shipping confirmation', 'out for delivery', 'delivery attempt', 'tracking number', 'your package', 'your parcel'],
  },
  account: {
    ja: [
      'アカウント',
      '会員登録',
      '会員情報',
      '本人確認',
      'ログイン',
      'パスワード',
      '利用停止',
      '一時停止',
      'ロックされ',
      'セキュリティ',
      '認証',
    ],
    en: [
      'your account',
      'account suspended',
      'account locked',
      'account verification',
      'verify your',
      'sign-in',
      'sign in',
      'log in',
      'password',
      'unusual activity',
      'security alert',
    ],
  },
}

/** How much a phrase weighs by where it stands. A notice needs at least NOTICE_MIN. */
export const WEIGHT = { subject: 3, lead: 1 } as const
export const NOTICE_MIN = 2
/** The lead: how much of the body is read for phrases (the first lines carry the claim). */
export const LEAD_CHARS = 1500
