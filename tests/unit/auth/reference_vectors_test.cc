// Every accepted scheme against hashes made by that scheme's own reference tools, never by
// this code. Each row names the command that produced it (run on Debian 12):
//   openssl passwd      OpenSSL 3.0
//   mkpasswd            Debian's whois package 5.5.17 (libxcrypt 4.4.33)
//   doveadm -O pw       Dovecot 2.3.19.1 (dovecot-core), the reference for {SCHEME} names
//   slappasswd          OpenLDAP 2.5.13 (slapd), the reference for LDAP's {SHA} {SSHA} {MD5}
//   python3             CPython 3.11: crypt, hashlib and base64 modules
// Each row is checked with its password (match) and with two wrong ones derived from it: one
// byte more, and the first byte changed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/auth/password_scheme.h"
#include "control/auth/password_verify.h"

namespace postcore::auth {
namespace {

struct ReferenceVector {
  std::string name;  // test name suffix
  std::string stored;
  std::string password;
  PasswordScheme scheme;
};

// UTF-8 passwords are written as bytes so the source file's encoding cannot change them.
const std::string kPasswordUmlauts = "p\xc3\xa4ssw\xc3\xb6rd";  // "pässwörd"
const std::string kPasswordShortUmlaut = "p\xc3\xa4ss";         // "päss"

std::vector<ReferenceVector> reference_vectors() {
  using S = PasswordScheme;
  return {
      // --- DES crypt (13 characters) ---
      // mkpasswd -m descrypt -S ab 'secret1'
      {"des_mkpasswd", "abmizb72ph5go", "secret1", S::kDesCrypt},
      // python3 -c "import crypt; print(crypt.crypt('hunter2', 'Zx'))"
      {"des_python", "Zx00V5FMSVP9o", "hunter2", S::kDesCrypt},
      // doveadm -O pw -s DES-CRYPT -p secret
      {"des_dovecot", "{DES-CRYPT}lSoV5vcQZ/CSU", "secret", S::kDesCrypt},

      // --- $1$ MD5-crypt ---
      // openssl passwd -1 -salt abc secret
      {"md5crypt_openssl", "$1$abc$iCQ2D3nhptRYi27fDYv2s1", "secret", S::kMd5Crypt},
      // openssl passwd -1 -salt 'Xy7.Qq/a' 'correct horse'
      {"md5crypt_openssl_8salt", "$1$Xy7.Qq/a$.ioE64ctR7A.Qs03rsDDG0", "correct horse",
       S::kMd5Crypt},
      // doveadm -O pw -s MD5-CRYPT -p 'correct horse'
      {"md5crypt_dovecot", "{MD5-CRYPT}$1$lTyGFYZW$Pj3HuwtNFeSEfaG8b//bR1", "correct horse",
       S::kMd5Crypt},

      // --- $5$ SHA256-crypt ---
      // openssl passwd -5 -salt saltsalt secret
      {"sha256crypt_openssl", "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", "secret",
       S::kSha256Crypt},
      // openssl passwd -5 -salt 'rounds=5000$Pz3' 'pässwörd'
      {"sha256crypt_openssl_rounds",
       "$5$rounds=5000$Pz3$bTlGOUJ1Bk5Y5I53mJMVpT5CpJ3XqG9D8FrabqqiNJ1", kPasswordUmlauts,
       S::kSha256Crypt},
      // doveadm -O pw -s SHA256-CRYPT -p hunter2
      {"sha256crypt_dovecot",
       "{SHA256-CRYPT}$5$Ob1p8LyRmLavMdnv$oQscSey4AYzJs6Jg9qE7Y9waS699Or5mrhWhxkx7Ls0", "hunter2",
       S::kSha256Crypt},

      // --- $6$ SHA512-crypt ---
      // openssl passwd -6 -salt saltsalt secret
      {"sha512crypt_openssl",
       "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
       "H91p5hVO1",
       "secret", S::kSha512Crypt},
      // openssl passwd -6 -salt 'a1b2c3d4e5f6g7h8' 'Tr0ub4dor&3'
      {"sha512crypt_openssl_16salt",
       "$6$a1b2c3d4e5f6g7h8$7.GQQI2AARpIrMi.nMObH7JQLotqFkJNjr/ox0Fn8zMc10QVehmTxYR6vvX3d87UAd/"
       "pAgmE64.GJf7pqNOP6/",
       "Tr0ub4dor&3", S::kSha512Crypt},
      // doveadm -O pw -s SHA512-CRYPT -p secret
      {"sha512crypt_dovecot",
       "{SHA512-CRYPT}$6$MOJ9amwFx.31MTfL$Ra/"
       "2OwWzihTfGTcCCEtjswhwrg9dFea9GKIFBOYIdFwRnLJ3PfReEPicbUU/"
       "2pbu75NveNusP8ASsmqedyDyg1",
       "secret", S::kSha512Crypt},

      // --- $2a$ / $2b$ / $2y$ bcrypt ---
      // mkpasswd -m bcrypt -R 5 -S abcdefghijklmnopqrstuu secret
      {"bcrypt_2b_mkpasswd", "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a",
       "secret", S::kBcrypt},
      // mkpasswd -m bcrypt-a -R 5 -S ABCDEFGHIJKLMNOPQRSTUu hunter2
      {"bcrypt_2a_mkpasswd", "$2a$05$ABCDEFGHIJKLMNOPQRSTUug9EJi7O5Rz32D/n75peBLa/jSnjeWsu",
       "hunter2", S::kBcrypt},
      // doveadm -O pw -s BLF-CRYPT -r 5 -p secret (printed with its {BLF-CRYPT} prefix)
      {"bcrypt_2y_dovecot_bare", "$2y$05$QCvPrEwtUQ45jtWte/t23OSeQaeD1NiR1hMuP6DrKVguNqMueJMPW",
       "secret", S::kBcrypt},
      {"bcrypt_2y_dovecot",
       "{BLF-CRYPT}$2y$05$QCvPrEwtUQ45jtWte/t23OSeQaeD1NiR1hMuP6DrKVguNqMueJMPW", "secret",
       S::kBcrypt},

      // --- $y$ yescrypt ---
      // mkpasswd -m yescrypt 'correct horse'
      {"yescrypt_mkpasswd",
       "$y$j9T$slchNj7oE.69PeZMd9aAz1$t1nqE22L/5b6RLwgxECq2ZiWYCIpYvhqeGoX7cIjHk4", "correct horse",
       S::kYescrypt},
      // mkpasswd -m yescrypt -R 7 'Tr0ub4dor&3'
      {"yescrypt_mkpasswd_cost7",
       "$y$jBT$y6/xxcO707MSy1Fb1FTz31$OZB4PpyuVv/UMvKVR7LAwX01E9tygU2jy1mEYIcAbJC", "Tr0ub4dor&3",
       S::kYescrypt},

      // --- {SHA}: base64(SHA1(password)) ---
      // slappasswd -h '{SHA}' -s secret
      {"sha_slappasswd", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret", S::kSha1},
      // doveadm -O pw -s SHA -p 'correct horse'
      {"sha_dovecot", "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=", "correct horse", S::kSha1},
      // doveadm -O pw -s SHA1 -p hunter2
      {"sha1_dovecot", "{SHA1}87u9ZqY9S/F0eUBXjsPQEDUw4h0=", "hunter2", S::kSha1},
      // doveadm -O pw -s SHA.HEX -p secret
      {"sha_hex_dovecot", "{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "secret", S::kSha1},
      // python3: base64.b64encode(hashlib.sha1(b'').digest())
      {"sha_python_empty_password", "{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "", S::kSha1},

      // --- {SSHA}: base64(SHA1(password + salt) + salt) ---
      // slappasswd -h '{SSHA}' -s secret
      {"ssha_slappasswd", "{SSHA}6AokPYRmL7OqCyeLVf88HGXkEHfijTeC", "secret", S::kSaltedSha1},
      // doveadm -O pw -s SSHA -p 'correct horse'
      {"ssha_dovecot", "{SSHA}FPqSq6LmEazVy1h3SNQUkcjAqCyb16Bx", "correct horse", S::kSaltedSha1},
      // doveadm -O pw -s SSHA.HEX -p hunter2
      {"ssha_hex_dovecot", "{SSHA.HEX}7ce4c899f319aba95434076678520dd5d764fd0edad1b57b", "hunter2",
       S::kSaltedSha1},
      // python3: base64.b64encode(hashlib.sha1(b'Tr0ub4dor&3' + b'saltsalt').digest() +
      //          b'saltsalt') — an 8-byte salt
      {"ssha_python_8salt", "{SSHA}12mJ6etYCpM1oXTRaCHR4ffDmnBzYWx0c2FsdA==", "Tr0ub4dor&3",
       S::kSaltedSha1},

      // --- {MD5}: OpenLDAP's base64(MD5), Dovecot's MD5-crypt, or hex MD5 ---
      // slappasswd -h '{MD5}' -s secret
      {"md5_slappasswd", "{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "secret", S::kMd5},
      // doveadm -O pw -s MD5 -p 'correct horse'
      {"md5_dovecot_md5crypt", "{MD5}$1$n/oPwsWj$ltJkySxrufn9lOTq0np7..", "correct horse",
       S::kMd5Crypt},
      // python3: hashlib.md5(b'secret').hexdigest()
      {"md5_hex_python", "{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", "secret", S::kMd5},
      // doveadm -O pw -s PLAIN-MD5 -p hunter2
      {"plain_md5_dovecot", "{PLAIN-MD5}2ab96390c7dbe3439de74d0c9b0b1767", "hunter2", S::kMd5},
      // doveadm -O pw -s LDAP-MD5 -p secret
      {"ldap_md5_dovecot", "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", "secret", S::kMd5},

      // --- {SMD5}: base64(MD5(password + salt) + salt) ---
      // slappasswd -h '{SMD5}' -s secret
      {"smd5_slappasswd", "{SMD5}hoCCEVp0iFiXpVCU7ekWZBTbhDU=", "secret", S::kSaltedMd5},
      // doveadm -O pw -s SMD5 -p 'correct horse'
      {"smd5_dovecot", "{SMD5}C1eo+aR7AVDkpbwokQ8WrB7IlkU=", "correct horse", S::kSaltedMd5},
      // python3: base64.b64encode(hashlib.md5(b'hunter2' + b'NaCl').digest() + b'NaCl')
      {"smd5_python", "{SMD5}sjKRSQpBMGHhXJ94W12nsE5hQ2w=", "hunter2", S::kSaltedMd5},

      // --- {SHA256} ---
      // doveadm -O pw -s SHA256 -p secret
      {"sha256_dovecot", "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "secret",
       S::kSha256},
      // doveadm -O pw -s SHA256.HEX -p 'correct horse'
      {"sha256_hex_dovecot",
       "{SHA256.HEX}4104d36f8da2c254349f85836793ebe029e0c957063a34c91c2e9203187b5631",
       "correct horse", S::kSha256},
      // python3: base64.b64encode(hashlib.sha256(b'hunter2').digest())
      {"sha256_python", "{SHA256}9S+9MrKzuG/4jvbEkGKChfSCrxXdyylUH5S89Saj9sc=", "hunter2",
       S::kSha256},

      // --- {SSHA256} ---
      // doveadm -O pw -s SSHA256 -p secret
      {"ssha256_dovecot", "{SSHA256}gbPSldb2+z8wFk3dp2EcdcvTNzjEekIoMB5YZsexYCrSYmqa", "secret",
       S::kSaltedSha256},
      // doveadm -O pw -s SSHA256 -p 'correct horse'
      {"ssha256_dovecot_2", "{SSHA256}L5NeLiPbkGryemKdR8cG2QWgwc5JFiRbj+aUtzs5tGT8bK9E",
       "correct horse", S::kSaltedSha256},
      // python3: salt = b'\x00\x01\xfe\xff\x10\x20\x30\x40';
      //          base64.b64encode(hashlib.sha256('päss'.encode() + salt).digest() + salt)
      {"ssha256_python_binary_salt",
       "{SSHA256}k8jGUM7+qRZX780NtSLv493hmPX2hcDitAR8WVGbmmcAAf7/ECAwQA==", kPasswordShortUmlaut,
       S::kSaltedSha256},

      // --- {SHA512} ---
      // doveadm -O pw -s SHA512 -p secret
      {"sha512_dovecot",
       "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/"
       "isg==",
       "secret", S::kSha512},
      // doveadm -O pw -s SHA512.HEX -p hunter2
      {"sha512_hex_dovecot",
       "{SHA512.HEX}"
       "6b97ed68d14eb3f1aa959ce5d49c7dc612e1eb1dafd73b1e705847483fd6a6c809f2ceb4e8df6ff9"
       "984c6298ff0285cace6614bf8daa9f0070101b6c89899e22",
       "hunter2", S::kSha512},
      // python3: base64.b64encode(hashlib.sha512(b'correct horse').digest())
      {"sha512_python",
       "{SHA512}VraY3v7bWkNbY0r+MyC7rz/"
       "c2SC2xQOkRvx7endrKY1HnRumqLYXgI6wv1ec6aldZoNHvKtxSQhayTyyeZUZ"
       "ew==",
       "correct horse", S::kSha512},

      // --- {SSHA512} ---
      // doveadm -O pw -s SSHA512 -p secret
      {"ssha512_dovecot",
       "{SSHA512}SIgV7A7auRPDfPPcSCoB9xMxQsnZmn0xssa7paTiBtWA/ttGQi9DqoFV58C1AKLTTILAzVuO/"
       "GluNPm5IZMdHY/0ei0=",
       "secret", S::kSaltedSha512},
      // doveadm -O pw -s SSHA512 -p 'correct horse'
      {"ssha512_dovecot_2",
       "{SSHA512}fbrjnax4iHNEFs8AFssDAZw8yvDh2Crn2RNW2oQBiZ4kU+"
       "Y63gjCSYRGFl9lI1ZtOmMweJT8eppdqcIZKik6"
       "3zdJki8=",
       "correct horse", S::kSaltedSha512},
      // python3: salt = bytes(range(16));
      //          base64.b64encode(hashlib.sha512(b'secret' + salt).digest() + salt)
      {"ssha512_python_16salt",
       "{SSHA512}UoZhLQsIuI2qOeKCxRn9dnKEVJ2ZNkuywTNSdJ5ikq9pJEb8zi2HiRv/"
       "LPc8o9twrYrAwwo+WL2XgM+i0t6Y"
       "bAABAgMEBQYHCAkKCwwNDg8=",
       "secret", S::kSaltedSha512},

      // --- {CRYPT} wrapping any crypt(3) string, scheme name in any case ---
      // slappasswd -h '{CRYPT}' -c '$6$%.16s' -s secret
      {"crypt_slappasswd_sha512",
       "{CRYPT}$6$j0GremXQLs.0kyPr$0ts7/wAOIOMH6dyZanBPB1Z74dMhnhIvdP6s1.74bgn7h9n/"
       "P4eWQSYaVfgitcwZVhhBFgDfrMetJLtLjmmEu1",
       "secret", S::kSha512Crypt},
      // the same hash with the scheme name in lower case
      {"crypt_lowercase_name",
       "{crypt}$6$j0GremXQLs.0kyPr$0ts7/wAOIOMH6dyZanBPB1Z74dMhnhIvdP6s1.74bgn7h9n/"
       "P4eWQSYaVfgitcwZVhhBFgDfrMetJLtLjmmEu1",
       "secret", S::kSha512Crypt},
      // slappasswd -h '{CRYPT}' -c '$1$%.8s' -s 'correct horse'
      {"crypt_slappasswd_md5", "{CRYPT}$1$7k1ezRAD$zINuPLRegSZQZXjHaxLoZ0", "correct horse",
       S::kMd5Crypt},
      // doveadm -O pw -s CRYPT -p hunter2
      {"crypt_dovecot_bcrypt",
       "{CRYPT}$2y$05$Cfvyyn9O1HPp/CFPL3Zd6OL1DhQ0MB6ijzhyXf9N465mSyJIP2z1.", "hunter2",
       S::kBcrypt},
      // mkpasswd -m descrypt -S ab 'secret1', wrapped with a mixed-case name
      {"crypt_mixed_case_des", "{Crypt}abmizb72ph5go", "secret1", S::kDesCrypt},
      // mkpasswd -m scrypt secret
      {"crypt_scrypt_mkpasswd",
       "{CRYPT}$7$CU..../....5uf4hnN7xkA8CpHFtV9qU/$7B8DXuAGdYn3bQGJBKFqPvwX1fXJB7fNZwJk4kMhAC.",
       "secret", S::kOtherCrypt},
      // mkpasswd -m gost-yescrypt 'correct horse'
      {"gost_yescrypt_mkpasswd",
       "$gy$j9T$iNxfUVI9mS9fgVKWOf7Uk1$ZYB.r/cQVcH.Sso3hbYpadVRA82imX7q.D8nmar7SL8",
       "correct horse", S::kOtherCrypt},
      // mkpasswd -m bsdicrypt hunter2
      {"bsdi_crypt_mkpasswd", "_J9..QI1ZpyJtmcpaYcM", "hunter2", S::kOtherCrypt},

      // --- {PLAIN} / {CLEARTEXT} ---
      // doveadm -O pw -s PLAIN -p secret
      {"plain_dovecot", "{PLAIN}secret", "secret", S::kPlain},
      // doveadm -O pw -s CLEARTEXT -p 'correct horse'
      {"cleartext_dovecot", "{CLEARTEXT}correct horse", "correct horse", S::kPlain},
      // doveadm -O pw -s CLEAR -p hunter2
      {"clear_dovecot", "{CLEAR}hunter2", "hunter2", S::kPlain},
      // doveadm -O pw -s PLAIN.b64 -p 'pa:ss{w}'
      {"plain_b64_dovecot", "{PLAIN.B64}cGE6c3N7d30=", "pa:ss{w}", S::kPlain},
      // doveadm -O pw -s PLAIN.HEX -p hunter2
      {"plain_hex_dovecot", "{PLAIN.HEX}68756e74657232", "hunter2", S::kPlain},
      // doveadm -O pw -s PLAIN -p secret, scheme name in lower case
      {"plain_lowercase_name", "{plain}secret", "secret", S::kPlain},

      // --- CommuniGate Pro: byte 0x02 followed by a crypt(3) hash ---
      // No CommuniGate tool is available here: each is 0x02 prepended to a reference hash.
      // printf '\002'; openssl passwd -1 -salt cgpsalt1 secret
      {"communigate_md5crypt", "\x02$1$cgpsalt1$SWG3VLzIM.jkQUQPxPzYK.", "secret", S::kMd5Crypt},
      // printf '\002'; mkpasswd -m descrypt -S Cg hunter2
      {"communigate_des",
       "\x02"
       "Cg7lyPz6fTA6.",
       "hunter2", S::kDesCrypt},
      // printf '\002'; openssl passwd -6 -salt cgp6salt 'correct horse'
      {"communigate_sha512crypt",
       "\x02$6$cgp6salt$"
       "jZd8UF95i1biqj96xJrgGa0xyJ9az8nHkAvKEIZXIAEn2iCfiZb9eqlj5DpCmmq58zCrqfcXbRKZ"
       "fQ0ONBrUf1",
       "correct horse", S::kSha512Crypt},
  };
}

class ReferenceVectorTest : public testing::TestWithParam<ReferenceVector> {};

TEST_P(ReferenceVectorTest, IsRecognisedAsItsScheme) {
  const ReferenceVector& v = GetParam();
  Result<StoredPassword> parsed = parse_stored_password(v.stored);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(scheme_name(parsed->scheme), scheme_name(v.scheme));
}

TEST_P(ReferenceVectorTest, RightPasswordMatches) {
  const ReferenceVector& v = GetParam();
  Result<bool> verdict = verify_password(v.stored, v.password);
  ASSERT_TRUE(verdict.ok()) << verdict.error().message;
  EXPECT_TRUE(*verdict);
}

TEST_P(ReferenceVectorTest, WrongPasswordsDoNotMatch) {
  const ReferenceVector& v = GetParam();
  std::string longer = v.password + "!";
  std::string changed = v.password.empty() ? std::string("x") : v.password;
  changed[0] = static_cast<char>(changed[0] ^ 0x01);
  for (const std::string& wrong : {longer, changed}) {
    Result<bool> verdict = verify_password(v.stored, wrong);
    ASSERT_TRUE(verdict.ok()) << verdict.error().message;
    EXPECT_FALSE(*verdict) << "wrong password \"" << wrong << "\" matched";
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, ReferenceVectorTest, testing::ValuesIn(reference_vectors()),
                         [](const testing::TestParamInfo<ReferenceVector>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace postcore::auth
