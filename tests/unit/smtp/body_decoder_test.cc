// The DATA and BDAT decoders checked against straightforward reference models on many
// generated inputs, each fed whole, one octet at a time and in random pieces.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "dataplane/smtp/chunk_decoder.h"
#include "dataplane/smtp/data_decoder.h"

namespace postcore::smtp {
namespace {

class CollectingHost : public SessionHost {
 public:
  RcptVerdict check_recipient(std::string_view, std::vector<DeliveryTarget>&) override {
    return RcptVerdict::accept;
  }
  std::string message_begin(const Envelope&) override { return "Q"; }
  void message_data(std::string_view chunk) override { data.append(chunk); }
  void message_end() override { ended = true; }
  void message_abort() override {
    data.clear();
    ++aborts;
  }
  // The decoders are driven without a Session, so nothing can ask for AUTH.
  void authenticate(std::string_view, std::string_view, std::string_view) override {}
  std::string data;
  bool ended = false;
  int aborts = 0;
};

struct Decoded {
  bool done = false;
  size_t consumed = 0;
  std::string data;  // only meaningful without faults
  uint8_t faults = 0;
  int aborts = 0;
};

// RFC 5321 read literally: the message ends at the first CRLF "." CRLF, counting the CRLF
// that ended the DATA line; lines are split at CRLF, a bare CR or a bare LF; a leading dot is
// removed from any line with more on it.
Decoded reference_data(std::string_view input, size_t max_line, bool normalise, uint64_t max_size) {
  Decoded result;
  const std::string virtual_input = "\r\n" + std::string(input);
  const size_t end = virtual_input.find("\r\n.\r\n");
  if (end == std::string::npos) return result;
  result.done = true;
  result.consumed = end + 3;
  const std::string raw(input.substr(0, end));
  for (size_t i = 0; i < raw.size();) {
    size_t j = i;
    while (j < raw.size() && raw[j] != '\r' && raw[j] != '\n') ++j;
    std::string content = raw.substr(i, j - i);
    // raw always ends with the CRLF before the end marker, so every line has an ending.
    std::string ending = raw.substr(j, 1);
    bool bare = true;
    if (raw[j] == '\r' && j + 1 < raw.size() && raw[j + 1] == '\n') {
      ending = "\r\n";
      bare = false;
    }
    if (content.size() + ending.size() > max_line) result.faults |= body_fault_line_too_long;
    if (bare) {
      if (normalise) {
        ending = "\r\n";
      } else {
        result.faults |= body_fault_bare_line_ending;
      }
    }
    if (content.size() > 1 && content[0] == '.') content.erase(0, 1);
    result.data += content + ending;
    i = j + (bare ? 1 : 2);
  }
  if (result.data.size() > max_size) result.faults |= body_fault_too_big;
  if (result.faults != 0) result.data.clear();
  result.aborts = result.faults != 0 ? 1 : 0;
  return result;
}

Decoded run_data_decoder(std::string_view input, const std::vector<size_t>& cuts, size_t max_line,
                         bool normalise, uint64_t max_size) {
  CollectingHost host;
  BodyWriter writer;
  writer.open(&host, max_size);
  DataDecoder decoder;
  decoder.start(max_line, normalise);
  Decoded result;
  size_t begin = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    if (decoder.done()) break;
    const size_t used = decoder.decode(input.substr(begin, end - begin), writer);
    result.consumed += used;
    if (decoder.done()) break;
    EXPECT_EQ(used, end - begin);
    begin = end;
  }
  result.done = decoder.done();
  result.faults = writer.faults();
  result.data = host.data;
  result.aborts = host.aborts;
  return result;
}

std::string random_text(std::mt19937& random, size_t max_length, std::string_view alphabet) {
  std::uniform_int_distribution<size_t> length(0, max_length);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string text(length(random), ' ');
  for (char& c : text) c = alphabet[pick(random)];
  return text;
}

std::vector<size_t> random_cuts(std::mt19937& random, size_t size) {
  std::vector<size_t> cuts;
  if (size < 2) return cuts;
  std::uniform_int_distribution<size_t> at(1, size - 1);
  for (int i = 0; i < 3; ++i) cuts.push_back(at(random));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

void expect_same(const Decoded& got, const Decoded& want, std::string_view input,
                 std::string_view how) {
  SCOPED_TRACE(::testing::Message() << how << " input=" << ::testing::PrintToString(input));
  ASSERT_EQ(got.done, want.done);
  if (!want.done) return;
  EXPECT_EQ(got.consumed, want.consumed);
  EXPECT_EQ(static_cast<int>(got.faults), static_cast<int>(want.faults));
  EXPECT_EQ(got.data, want.data);
  EXPECT_EQ(got.aborts, want.aborts);
}

TEST(DataDecoder, MatchesReferenceOnGeneratedInput) {
  std::mt19937 random(20240501);
  for (int round = 0; round < 20000; ++round) {
    const bool normalise = round % 2 == 1;
    const size_t max_line = 3 + round % 7;
    const uint64_t max_size = round % 3 == 0 ? 12 : 1000;
    std::string input = random_text(random, 24, "a.\r\n\r\n..");
    if (round % 4 != 0) input += "\r\n.\r\nNEXT";  // usually, but not always, a real end
    const Decoded want = reference_data(input, max_line, normalise, max_size);
    expect_same(run_data_decoder(input, {}, max_line, normalise, max_size), want, input, "whole");
    std::vector<size_t> every;
    for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
    expect_same(run_data_decoder(input, every, max_line, normalise, max_size), want, input,
                "bytewise");
    expect_same(
        run_data_decoder(input, random_cuts(random, input.size()), max_line, normalise, max_size),
        want, input, "random pieces");
    if (HasFailure()) return;
  }
}

TEST(DataDecoder, EveryShortSequenceOfSpecialOctets) {
  // All strings of up to 6 octets over {CR, LF, '.', 'x'}, after a line start, followed by
  // a real end: exhaustive for the short look-alikes of the end marker.
  const std::string alphabet = "\r\n.x";
  std::vector<std::string> texts = {""};
  for (int length = 1; length <= 6; ++length) {
    std::vector<std::string> longer;
    for (const std::string& text : texts) {
      if (text.size() != static_cast<size_t>(length - 1)) continue;
      for (char c : alphabet) longer.push_back(text + c);
    }
    texts.insert(texts.end(), longer.begin(), longer.end());
  }
  for (const std::string& text : texts) {
    for (bool normalise : {false, true}) {
      const std::string input = text + "\r\n.\r\n";
      const Decoded want = reference_data(input, 1000, normalise, 1000);
      expect_same(run_data_decoder(input, {}, 1000, normalise, 1000), want, input, "whole");
      for (size_t cut = 1; cut < input.size(); ++cut) {
        expect_same(run_data_decoder(input, {cut}, 1000, normalise, 1000), want, input, "cut");
      }
      if (HasFailure()) return;
    }
  }
}

TEST(DataDecoder, HandsOverLargeSpans) {
  BodyWriter writer;
  DataDecoder decoder;
  decoder.start(1000, false);
  std::string text;
  for (int i = 0; i < 100; ++i) text += "A line of ordinary text, the kind most messages hold.\r\n";
  struct CountingHost : CollectingHost {
    void message_data(std::string_view chunk) override {
      ++calls;
      CollectingHost::message_data(chunk);
    }
    int calls = 0;
  } counting;
  writer.open(&counting, 1 << 20);
  EXPECT_EQ(decoder.decode(text + ".\r\n", writer), text.size() + 3);
  EXPECT_EQ(counting.calls, 1);
  EXPECT_EQ(counting.data, text);
}

// BDAT: CRLF pairs may straddle chunks; a bare CR or LF is refused or normalised unless the
// body is BINARYMIME.
std::string reference_chunks(std::string_view raw, bool check, bool normalise, uint8_t* faults) {
  *faults = 0;
  if (!check) return std::string(raw);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    const bool pair = c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n';
    const bool after_pair = c == '\n' && i > 0 && raw[i - 1] == '\r';
    if (pair || after_pair || (c != '\r' && c != '\n')) {
      out += c;
    } else if (normalise) {
      out += "\r\n";
    } else {
      *faults |= body_fault_bare_line_ending;
    }
  }
  if (*faults != 0) out.clear();
  return out;
}

TEST(ChunkDecoder, MatchesReferenceOnGeneratedInput) {
  std::mt19937 random(7);
  for (int round = 0; round < 20000; ++round) {
    const bool check = round % 3 != 0;
    const bool normalise = round % 2 == 0;
    const std::string raw = random_text(random, 20, "ab\r\n\r\n");
    uint8_t want_faults = 0;
    const std::string want = reference_chunks(raw, check, normalise, &want_faults);

    CollectingHost host;
    BodyWriter writer;
    writer.open(&host, 1000);
    ChunkDecoder decoder;
    decoder.start(check, normalise);
    std::vector<size_t> ends = random_cuts(random, raw.size());
    ends.push_back(raw.size());
    size_t begin = 0;
    for (size_t end : ends) {
      decoder.decode(std::string_view(raw).substr(begin, end - begin), writer);
      decoder.decode({}, writer);  // BDAT 0 between chunks changes nothing
      begin = end;
    }
    decoder.finish(writer);
    ASSERT_EQ(static_cast<int>(writer.faults()), static_cast<int>(want_faults))
        << ::testing::PrintToString(raw);
    ASSERT_EQ(host.data, want) << ::testing::PrintToString(raw);
  }
}

TEST(BodyWriter, CountsAndAbortsOnce) {
  CollectingHost host;
  BodyWriter writer;
  writer.open(&host, 5);
  writer.write("abc");
  writer.fault(body_fault_bare_line_ending);
  writer.write("defgh");
  writer.fault(body_fault_line_too_long);
  EXPECT_EQ(host.aborts, 1);
  EXPECT_EQ(writer.size(), 8u);
  EXPECT_EQ(writer.faults(),
            body_fault_bare_line_ending | body_fault_line_too_long | body_fault_too_big);
  EXPECT_FALSE(writer.finish());
  EXPECT_FALSE(host.ended);
}

}  // namespace
}  // namespace postcore::smtp
