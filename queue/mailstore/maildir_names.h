// What a Maildir, and the files Dovecot keeps beside it, say about the messages, for
// `postcorectl import maildir`: the flags and keywords in a message's file name
// (`<base>:2,<flags>`), the sizes Dovecot puts in the base (`,S=`, `,W=`), the keyword names
// of `dovecot-keywords`, and the UIDs, UIDVALIDITY and POP3 UIDLs of `dovecot-uidlist`, so
// that an import keeps what clients have cached.
//
// Plain functions over text; no I/O. File names are read tolerantly (a name that is not
// in the Maildir form simply has no flags); the two Dovecot files strictly, with errors
// naming FILE:LINE:COLUMN.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace postcore::mailstore {

struct MaildirName {
  std::string base;     // the message's unique name: everything before the info separator
  uint8_t flags = 0;    // system flags (changes.h) from D, F, R, S, T
  bool passed = false;  // P: forwarded (IMAP keyword $Forwarded)
  // Dovecot keywords: a..z, as indexes into dovecot-keywords (0 = a), ascending.
  std::vector<uint8_t> keywords;
  std::optional<uint64_t> size;   // ,S=<octets of the file>
  std::optional<uint64_t> vsize;  // ,W=<RFC822.SIZE: octets with CRLF line ends>
};

// `name` is a file name in cur/ or new/. The info separator is ':' (';' or '!' where the
// Maildir was kept on a file system that forbids ':'), followed by "2," and the flag letters;
// anything after a ',' in the flags is Dovecot's and ignored.
MaildirName parse_maildir_name(std::string_view name);

// dovecot-keywords: lines "<index> <name>", index 0..25 (the letter a..z in file names).
// Returns the names by index ("" where none is given).
Result<std::vector<std::string>> parse_dovecot_keywords(std::string_view text,
                                                        std::string_view file_name);

struct UidlistEntry {
  uint32_t uid = 0;
  std::string base;  // of the file name the message had when the list was written
  // P: a POP3 UIDL other than the default; an empty P means "the base name".
  std::optional<std::string> pop3_uidl;
  std::optional<uint32_t> pop3_order;  // O: listing order kept from another server
  std::optional<uint64_t> vsize;       // W
  std::optional<uint64_t> size;        // S
  std::string guid;                    // G, if given
};

struct Uidlist {
  uint32_t version = 0;  // 1 (Courier's form) or 3
  uint32_t uidvalidity = 0;
  uint32_t uidnext = 0;
  std::string guid;                   // the mailbox's, version 3
  std::vector<UidlistEntry> entries;  // ascending UIDs
};

// dovecot-uidlist (or Courier's courierimapuiddb, version 1).
Result<Uidlist> parse_dovecot_uidlist(std::string_view text, std::string_view file_name);

// The POP3 UIDL Dovecot showed for `entry`: its P value, the base name for an empty P, else
// none (the default form, which postcore derives itself from UID and UIDVALIDITY).
std::optional<std::string> uidl_of(const UidlistEntry& entry);

}  // namespace postcore::mailstore
