// The mbox reader splits whole mbox texts into the expected messages and metadata, gives
// the same answer however the input is cut, and holds only a line and a header however
// large the file or a message is.
#include "queue/mailstore/mbox_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "queue/mailstore/changes.h"

namespace postcore::mailstore {
namespace {

struct Read {
  MboxMessage meta;
  std::string octets;
  bool ended = false;
};

struct Problem {
  MboxProblemKind kind;
  uint64_t line, octets;
  bool operator==(const Problem&) const = default;
};

class Collector : public MboxVisitor {
 public:
  void begin(const MboxMessage& m) override {
    EXPECT_TRUE(messages.empty() || messages.back().ended);
    messages.push_back({m, {}, false});
  }
  void data(std::string_view octets) override {
    ASSERT_FALSE(messages.empty());
    ASSERT_FALSE(messages.back().ended);
    EXPECT_FALSE(octets.empty());
    messages.back().octets.append(octets);
  }
  void end() override {
    ASSERT_FALSE(messages.empty());
    messages.back().ended = true;
  }
  void problem(const MboxProblem& p) override { problems.push_back({p.kind, p.line, p.octets}); }

  std::vector<Read> messages;
  std::vector<Problem> problems;
};

// Everything a reading produced, in one comparable string.
std::string summary(const Collector& c) {
  std::string out;
  for (const Read& r : c.messages) {
    out += "line=" + std::to_string(r.meta.line) + " sender=" + r.meta.sender;
    out += " date=" + (r.meta.internal_date ? std::to_string(*r.meta.internal_date) : "-");
    out += " zone=" + std::to_string(r.meta.zone_minutes);
    out += " flags=" + std::to_string(r.meta.flags) + " uidl=" + r.meta.uidl + " kw=";
    for (const std::string& k : r.meta.keywords) out += k + ";";
    out += r.ended ? " ended\n" : " open\n";
    out += r.octets + "|\n";
  }
  for (const Problem& p : c.problems)
    out += "problem " + std::string(describe(p.kind)) + " line=" + std::to_string(p.line) +
           " octets=" + std::to_string(p.octets) + "\n";
  return out;
}

// Reads `text` cut into pieces of `step` octets (0: all at once).
Collector read(std::string_view text, const MboxReaderOptions& options = {}, size_t step = 0) {
  Collector c;
  MboxReader reader(options, c);
  if (step == 0) {
    reader.feed(text);
  } else {
    for (size_t at = 0; at < text.size(); at += step) reader.feed(text.substr(at, step));
  }
  reader.finish();
  return c;
}

constexpr int64_t kJan3_1996_010534 = 820631134;  // Sat Jan  3 01:05:34 1996 UTC

struct Case {
  const char* name;
  std::string mbox;
  std::vector<std::string> octets;  // each message's octets, in order
  std::vector<Problem> problems;
};

std::vector<Case> cases() {
  return {
      {"two messages, LF",
       "From a@x Sat Jan  3 01:05:34 1996\nSubject: one\n\nbody 1\n\n"
       "From b@x Sun Jan  4 01:05:34 1996\nSubject: two\n\nbody 2\n",
       {"Subject: one\r\n\r\nbody 1\r\n", "Subject: two\r\n\r\nbody 2\r\n"},
       {}},
      {"CRLF kept, separator blank dropped, inner blanks kept",
       "From a@x Sat Jan  3 01:05:34 1996\r\nA: 1\r\n\r\nx\r\n\r\n\r\n\r\n"
       "From b@x Sat Jan  3 01:05:34 1996\r\nB: 2\r\n\r\n",
       {"A: 1\r\n\r\nx\r\n\r\n\r\n", "B: 2\r\n"},
       {}},
      {"mboxrd unquoting",
       "From a Sat Jan  3 01:05:34 1996\nS: x\n\n>From me\n>>From you\n"
       ">Fromage\nFrom x\n",
       {"S: x\r\n\r\nFrom me\r\n>From you\r\n>Fromage\r\nFrom x\r\n"},
       {}},
      {"From line without a blank before it and without a date stays in the body",
       "From a Sat Jan  3 01:05:34 1996\nS: x\n\nbody\nFrom here on, we go\n",
       {"S: x\r\n\r\nbody\r\nFrom here on, we go\r\n"},
       {}},
      {"From_ line with a date splits even without a blank before it",
       "From a Sat Jan  3 01:05:34 1996\nS: x\n\nbody\nFrom b@y Mon Feb 29 23:59:60 2004\nT: y\n",
       {"S: x\r\n\r\nbody\r\n", "T: y\r\n"},
       {{MboxProblemKind::no_header_end, 5, 0}}},
      {"text before the first From_ line is skipped and counted",
       "junk\n\nFrom a Sat Jan  3 01:05:34 1996\nS: x\n\nb\n",
       {"S: x\r\n\r\nb\r\n"},
       {{MboxProblemKind::skipped_before_first_message, 1, 6}}},
      {"no From_ line at all",
       "just text\nno mbox\n",
       {},
       {{MboxProblemKind::skipped_before_first_message, 1, 18}}},
      {"empty file", "", {}, {{MboxProblemKind::empty_input, 1, 0}}},
      {"last line without newline",
       "From a Sat Jan  3 01:05:34 1996\nS: x\n\nlast",
       {"S: x\r\n\r\nlast\r\n"},
       {{MboxProblemKind::no_final_newline, 4, 0}}},
      {"bad date after a blank line still splits",
       "From a Sat Jan  3 01:05:34 1996\nS: x\n\n\nFrom b yesterday\nT: y\n\n",
       {"S: x\r\n\r\n", "T: y\r\n"},
       {{MboxProblemKind::bad_from_date, 5, 0}}},
      {"message without header end",
       "From a Sat Jan  3 01:05:34 1996\nS: x\nT: y\n",
       {"S: x\r\nT: y\r\n"},
       {{MboxProblemKind::no_header_end, 1, 0}}},
      {"NUL octets kept and reported",
       std::string("From a Sat Jan  3 01:05:34 1996\nS: x\n\n"
                   "a\0b\n\0\n",
                   44),
       {std::string("S: x\r\n\r\na\0b\r\n\0\r\n", 16)},
       {{MboxProblemKind::nul_octets, 4, 2}}},
      {"a trailing Ctrl-Z is no part of the last message",
       "From a Sat Jan  3 01:05:34 1996\nS: x\n\nb\n\x1a",
       {"S: x\r\n\r\nb\r\n"},
       {{MboxProblemKind::trailing_ctrl_z, 5, 1}}},
      {"a Ctrl-Z inside the file is kept",
       "From a Sat Jan  3 01:05:34 1996\nS: x\n\n\x1a\nb\n",
       {"S: x\r\n\r\n\x1a\r\nb\r\n"},
       {}},
      {"bare CR inside a line left alone",
       "From a Sat Jan  3 01:05:34 1996\nS: x\r\n\na\rb\n",
       {"S: x\r\n\r\na\rb\r\n"},
       {}},
  };
}

TEST(MboxReader, TableOfWholeFiles) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Collector got = read(c.mbox);
    ASSERT_EQ(got.messages.size(), c.octets.size());
    for (size_t i = 0; i < c.octets.size(); i++) {
      EXPECT_EQ(got.messages[i].octets, c.octets[i]) << i;
      EXPECT_TRUE(got.messages[i].ended);
    }
    EXPECT_EQ(got.problems, c.problems);
  }
}

TEST(MboxReader, Metadata) {
  const Collector c = read(
      "From MAILER-DAEMON Sat Jan  3 01:05:34 1996\n"
      "Status: RO\nX-Status: AFTD\nX-Keywords: $Label1, Work  todo,$Label1\n"
      " later\nX-UIDL:  abc123 \nSubject: s\n\nbody\n\n"
      "From \"a b\"@x Sat Jan 3 01:05 1996 +0130 remote from x\n"
      "status: O\n\n\n"
      "From c@x Sat Jan  3 01:05:34 -0800 1996\n\n"
      "From d@x Sat Jan  3 01:05:34 1996 extra words\n\n");
  ASSERT_EQ(c.messages.size(), 4u);
  const MboxMessage& a = c.messages[0].meta;
  EXPECT_EQ(a.line, 1u);
  EXPECT_EQ(a.sender, "MAILER-DAEMON");
  EXPECT_EQ(a.internal_date, kJan3_1996_010534);
  EXPECT_EQ(a.zone_minutes, 0);
  EXPECT_EQ(a.flags, flag_seen | flag_answered | flag_flagged | flag_draft | flag_deleted);
  EXPECT_EQ(a.keywords, (std::vector<std::string>{"$Label1", "Work", "todo", "later"}));
  EXPECT_EQ(a.uidl, "abc123");
  // The headers stay in the message as they were.
  EXPECT_EQ(c.messages[0].octets.substr(0, 26), "Status: RO\r\nX-Status: AFTD");

  const MboxMessage& b = c.messages[1].meta;
  EXPECT_EQ(b.line, 11u);
  EXPECT_EQ(b.sender, "\"a b\"@x");
  EXPECT_EQ(b.internal_date, kJan3_1996_010534 - 34 - 90 * 60);
  EXPECT_EQ(b.zone_minutes, 90);
  EXPECT_EQ(b.flags, 0);
  EXPECT_EQ(c.messages[1].octets, "status: O\r\n\r\n");

  EXPECT_EQ(c.messages[2].meta.line, 15u);
  EXPECT_EQ(c.messages[2].meta.internal_date, kJan3_1996_010534 + 8 * 3600);
  EXPECT_EQ(c.messages[2].meta.zone_minutes, -480);
  EXPECT_EQ(c.messages[2].octets, "");
  EXPECT_EQ(c.messages[3].meta.internal_date, kJan3_1996_010534);
  EXPECT_TRUE(c.problems.empty());
}

TEST(MboxReader, UnreadableDatesAreReportedAndLeftUnset) {
  for (const char* line : {"From a Sat Jan 32 01:05:34 1996", "From a Sat Feb 30 01:05:34 1996",
                           "From a Sat Jan  3 24:05:34 1996", "From a Sat Jan  3 01:05:34 96",
                           "From a Sat Jab  3 01:05:34 1996", "From a", "From "}) {
    SCOPED_TRACE(line);
    const Collector c = read(std::string(line) + "\nS: x\n");
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_FALSE(c.messages[0].meta.internal_date.has_value());
    ASSERT_FALSE(c.problems.empty());
    EXPECT_EQ(c.problems[0], (Problem{MboxProblemKind::bad_from_date, 1, 0}));
  }
}

TEST(MboxReader, MboxoUnquotesOnlyOneLevel) {
  MboxReaderOptions mboxo;
  mboxo.mboxrd = false;
  const std::string text = "From a Sat Jan  3 01:05:34 1996\nS: x\n\n>From me\n>>From you\n";
  EXPECT_EQ(read(text, mboxo).messages.at(0).octets, "S: x\r\n\r\nFrom me\r\n>>From you\r\n");
  EXPECT_EQ(read(text).messages.at(0).octets, "S: x\r\n\r\nFrom me\r\n>From you\r\n");
}

TEST(MboxReader, EverySplitGivesTheSameAnswer) {
  std::vector<std::string> texts;
  for (const Case& c : cases()) texts.push_back(c.mbox);
  texts.push_back(
      "From MAILER-DAEMON Sat Jan  3 01:05:34 1996\r\nStatus: R\r\nX-Keywords: a b\r\n\r\n"
      ">>From x\r\nbody\r\n\r\nFrom b Sun Jan  4 01:05:34 1996 +0100\nX-UIDL: u\n\nx\r");
  MboxReaderOptions small;
  small.max_line = 40;  // some From_ lines are over it and so are no From_ lines
  small.max_header = 20;
  for (const MboxReaderOptions& options : {MboxReaderOptions{}, small}) {
    for (const std::string& text : texts) {
      SCOPED_TRACE(text);
      const std::string whole = summary(read(text, options));
      EXPECT_EQ(summary(read(text, options, 1)), whole);
      for (size_t cut = 1; cut < text.size(); cut++) {
        Collector c;
        MboxReader reader(options, c);
        reader.feed(std::string_view(text).substr(0, cut));
        reader.feed(std::string_view(text).substr(cut));
        reader.finish();
        ASSERT_EQ(summary(c), whole) << "cut at " << cut;
      }
    }
  }
}

TEST(MboxReader, LongLinesArePassedOnInPieces) {
  MboxReaderOptions options;
  options.max_line = 40;
  const std::string long_body(100, 'x');
  const std::string text = "From a Sat Jan  3 01:05:34 1996\nS: x\n\n>From " + long_body +
                           "\r\nshort\n" + long_body + "\n\n";
  for (size_t step : {0, 1, 7}) {
    SCOPED_TRACE(step);
    Collector c;
    MboxReader reader(options, c);
    size_t most_held = 0;
    for (size_t at = 0; at < text.size(); at += (step ? step : text.size())) {
      reader.feed(std::string_view(text).substr(at, step ? step : text.size()));
      most_held = std::max(most_held, reader.held_octets());
    }
    reader.finish();
    EXPECT_LE(most_held, 40u + 6u);
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].octets,
              "S: x\r\n\r\nFrom " + long_body + "\r\nshort\r\n" + long_body + "\r\n");
    EXPECT_EQ(c.problems, (std::vector<Problem>{{MboxProblemKind::line_too_long, 4, 0},
                                                {MboxProblemKind::line_too_long, 6, 0}}));
  }
}

TEST(MboxReader, LongHeaderIsPassedOnUninspected) {
  MboxReaderOptions options;
  options.max_header = 40;
  const std::string header =
      "Status: R\nSubject: " + std::string(30, 's') + "\nX-Status: F\nX-UIDL: late\n";
  const Collector c = read("From a Sat Jan  3 01:05:34 1996\n" + header + "\nbody\n", options);
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].meta.flags, flag_seen);
  EXPECT_EQ(c.messages[0].meta.uidl, "");
  EXPECT_EQ(c.messages[0].octets, "Status: R\r\nSubject: " + std::string(30, 's') +
                                      "\r\nX-Status: F\r\nX-UIDL: late\r\n\r\nbody\r\n");
  EXPECT_EQ(c.problems, (std::vector<Problem>{{MboxProblemKind::header_too_long, 3, 0}}));
}

// Octets of a stream made of segments, each a text repeated, handed out in fixed chunks
// without ever building the stream.
class StreamGenerator {
 public:
  void add(std::string text, uint64_t times) { segments_.push_back({std::move(text), times}); }

  // The next chunk of at most `size` octets; empty at the end.
  std::string_view next(size_t size) {
    buffer_.clear();
    while (buffer_.size() < size && segment_ < segments_.size()) {
      const Segment& s = segments_[segment_];
      const size_t n = std::min(size - buffer_.size(), s.text.size() - offset_);
      buffer_.append(s.text, offset_, n);
      offset_ += n;
      if (offset_ == s.text.size()) {
        offset_ = 0;
        if (++repeat_ == s.times) {
          repeat_ = 0;
          segment_++;
        }
      }
    }
    return buffer_;
  }

 private:
  struct Segment {
    std::string text;
    uint64_t times;
  };
  std::vector<Segment> segments_;
  size_t segment_ = 0, offset_ = 0;
  uint64_t repeat_ = 0;
  std::string buffer_;
};

class CountingVisitor : public MboxVisitor {
 public:
  void begin(const MboxMessage&) override { sizes.push_back(0); }
  void data(std::string_view octets) override { sizes.back() += octets.size(); }
  void end() override {}
  void problem(const MboxProblem&) override { problems++; }
  std::vector<uint64_t> sizes;
  uint64_t problems = 0;
};

TEST(MboxReader, TwoHundredMegabytesInSmallMemory) {
  const std::string line = std::string(197, 'b') + "\n";  // 198 octets
  const uint64_t big_lines = 150ull * 1000 * 1000 / line.size();
  const std::string small = "From s@x Sat Jan  3 01:05:34 1996\nSubject: small\n\n" +
                            std::string(950, 'c') + "\n>From here\n\n";
  const uint64_t smalls = 50ull * 1000 * 1000 / small.size();
  StreamGenerator stream;
  stream.add("From big@x Sat Jan  3 01:05:34 1996\nSubject: big\n\n", 1);
  stream.add(line, big_lines);
  stream.add("\n", 1);
  stream.add(small, smalls);

  CountingVisitor v;
  MboxReader reader({}, v);
  size_t most_held = 0;
  uint64_t fed = 0;
  for (std::string_view chunk = stream.next(65536); !chunk.empty(); chunk = stream.next(65536)) {
    reader.feed(chunk);
    fed += chunk.size();
    most_held = std::max(most_held, reader.held_octets());
  }
  reader.finish();
  EXPECT_GE(fed, 199ull * 1000 * 1000);
  EXPECT_LE(most_held, 1000u);  // one line at most: no header is held past its end
  EXPECT_EQ(v.problems, 0u);
  ASSERT_EQ(v.sizes.size(), 1 + smalls);
  EXPECT_EQ(v.sizes[0], 14 + 2 + big_lines * (line.size() + 1));
  EXPECT_EQ(v.sizes[1], 16 + 2 + 952 + 11);
  EXPECT_EQ(v.sizes.back(), v.sizes[1]);
}

}  // namespace
}  // namespace postcore::mailstore
