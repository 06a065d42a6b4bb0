# shop-notice.sieve: act on X-Shop-Notice, the verdict haraka-plugin-shop-notice
# writes on every message it scans (docs/headers.md, docs/clients.md).
#
#   spoofed     -> Junk, marked $Phishing: never the inbox
#   suspicious  -> Junk
#   verified    -> the inbox, marked $VerifiedNotice (a mail client or webmail
#                  can show a "verified notice" badge for it)
#   verified or notice that may be someone else's -> also marked $CheckNotice:
#                  its greeting names a person this mailbox's earlier notices
#                  never named (NOTICE_OTHER_ADDRESSEE), or it is the shop's
#                  first notice here and carries a postal address or phone
#                  number (NOTICE_FIRST_CONTACT with NOTICE_PERSONAL_DATA)
#   none, notice, error, or no header -> the inbox, untouched
#   released by an admin (X-Shop-Notice-Released) -> the inbox, whatever
#                  verdict it was held with (docs/operations.md)
#
# Only use this where your own Haraka runs shop-notice: it removes every
# X-Shop-Notice a sender wrote before it adds its own, so the one a mailbox
# sees is the server's. The worst verdict wins when, against that, there are
# several; "verified" counts only when no copy says anything else.
#
# Dovecot (Pigeonhole): save as ~/sieve/shop-notice.sieve and activate it, or
# use it as a sieve_before script for every user. Needs the fileinto,
# imap4flags and mailbox extensions (all on by default in Pigeonhole);
# :create makes Junk when it is missing, so that a filed message never falls
# back to the inbox.

require ["fileinto", "imap4flags", "mailbox"];

# An admin released it from the quarantine: it keeps the verdict it was held
# with, and the admin's decision stands. The plugin removes every release
# header without a valid one-time token, so only a real release gets here.
if exists "X-Shop-Notice-Released" {
    keep;
    stop;
}

if header :matches "X-Shop-Notice" ["spoofed", "spoofed;*"] {
    fileinto :create :flags "$Phishing" "Junk";
    stop;
}

if header :matches "X-Shop-Notice" ["suspicious", "suspicious;*"] {
    fileinto :create "Junk";
    stop;
}

if allof (header :matches "X-Shop-Notice" ["verified", "verified;*"],
          not header :matches "X-Shop-Notice" ["none", "none;*", "notice", "notice;*", "error", "error;*"]) {
    addflag "$VerifiedNotice";
}

# A genuine notice that may not be yours (someone mistyped their address at the
# shop): flag it for a look. If it is someone else's, tell the shop, giving its
# Message-ID and date, not the personal data it carries (docs/clients.md).
if allof (header :matches "X-Shop-Notice" ["verified;*", "notice;*"],
          anyof (header :matches "X-Shop-Notice" ["*=NOTICE_OTHER_ADDRESSEE", "*=NOTICE_OTHER_ADDRESSEE,*",
                                                  "*,NOTICE_OTHER_ADDRESSEE", "*,NOTICE_OTHER_ADDRESSEE,*"],
                 allof (header :matches "X-Shop-Notice" ["*=NOTICE_FIRST_CONTACT", "*=NOTICE_FIRST_CONTACT,*",
                                                         "*,NOTICE_FIRST_CONTACT", "*,NOTICE_FIRST_CONTACT,*"],
                        header :matches "X-Shop-Notice" ["*=NOTICE_PERSONAL_DATA", "*=NOTICE_PERSONAL_DATA,*",
                                                         "*,NOTICE_PERSONAL_DATA", "*,NOTICE_PERSONAL_DATA,*"]))) {
    addflag "$CheckNotice";
}
