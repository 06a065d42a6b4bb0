# shop-notice.sieve: act on X-Shop-Notice, the verdict haraka-plugin-shop-notice
# writes on every message it scans (docs/headers.md, docs/clients.md).
#
#   spoofed     -> Junk, marked $Phishing: never the inbox
#   suspicious  -> Junk
#   verified    -> the inbox, marked $VerifiedNotice (a mail client or webmail
#                  can show a "verified notice" badge for it)
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
