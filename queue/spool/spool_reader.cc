#include "queue/spool/spool_reader.h"

#include <fcntl.h>
#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "queue/spool/message_read.h"
#include "queue/spool/queue_id.h"
#include "queue/spool/segment_index.h"
#include "queue/spool/segment_loader.h"

namespace postcore::spool {

struct SpoolReader::OpenSegment {
  OpenSegment(volume::FileIo& io, int fd) : io(&io), fd(fd) {}
  OpenSegment(OpenSegment&& other) noexcept
      : io(other.io),
        fd(std::exchange(other.fd, -1)),
        path(std::move(other.path)),
        loaded(std::move(other.loaded)) {}
  OpenSegment& operator=(OpenSegment&&) = delete;
  ~OpenSegment() {
    if (fd >= 0) (void)io->close(fd);
  }

  volume::FileIo* io;
  int fd;
  std::string path;
  LoadedSegment loaded;
};

struct SpoolReader::ShardState {
  uint16_t shard = 0;
  std::vector<OpenSegment> segments;

  StoredMessage* find(uint64_t key, OpenSegment** owner) {
    for (OpenSegment& s : segments) {
      if (s.loaded.id != key_segment(key)) continue;
      auto& messages = s.loaded.messages;
      auto it = std::lower_bound(messages.begin(), messages.end(), key,
                                 [](const StoredMessage& m, uint64_t k) { return m.key < k; });
      if (it == messages.end() || it->key != key) return nullptr;
      if (owner) *owner = &s;
      return &*it;
    }
    return nullptr;
  }
};

namespace {

// An index must agree with the records it summarises.
void check_index(const std::string& index_path, std::string_view bytes, const LoadedSegment& scan,
                 std::vector<VerifyProblem>& problems) {
  auto index = decode_index(bytes);
  if (!index) {
    problems.push_back(VerifyProblem{index_path, 0, bytes.size(), index.error().message});
    return;
  }
  auto mismatch = [&](std::string what) {
    problems.push_back(VerifyProblem{index_path, 0, bytes.size(), std::move(what)});
  };
  if (!scan.sealed) return mismatch("index for a segment that is not sealed");
  if (index->data_end != scan.file_size) return mismatch("index length disagrees with segment");
  if (index->nonce != scan.nonce) return mismatch("index nonce disagrees with segment");
  for (const StoredMessage& m : index->messages) {
    auto it = std::lower_bound(scan.messages.begin(), scan.messages.end(), m.key,
                               [](const StoredMessage& s, uint64_t k) { return s.key < k; });
    if (it == scan.messages.end() || it->key != m.key || it->first_offset != m.first_offset ||
        it->end_offset != m.end_offset || it->content_length != m.content_length ||
        it->content_crc != m.content_crc || it->done.size() != m.done.size()) {
      mismatch(fmt::format("index entry for message {:016X} disagrees with segment", m.key));
    }
  }
}

}  // namespace

SpoolReader::SpoolReader(volume::FileIo& io, std::string data_dir)
    : io_(io), root_(data_dir + "/spool") {}

SpoolReader SpoolReader::at_root(volume::FileIo& io, std::string root) {
  SpoolReader reader(io, std::string());
  reader.root_ = std::move(root);
  return reader;
}

Result<std::vector<uint16_t>> SpoolReader::shards() {
  auto names = io_.list_dir(spool_dir());
  if (!names && names.error().code == ENOENT) return std::vector<uint16_t>{};  // nothing yet
  if (!names) return names.error();
  std::vector<uint16_t> out;
  for (const std::string& name : *names) {
    if (auto shard = parse_shard_dir_name(name)) out.push_back(*shard);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<SpoolReader::ShardState> SpoolReader::load_shard(uint16_t shard, bool full_verify,
                                                        VerifyReport* report) {
  const std::string dir = root_ + "/" + shard_dir_name(shard);
  auto names = io_.list_dir(dir);
  if (!names) return names.error();
  std::set<uint32_t> logs, indexes;
  for (const std::string& name : *names) {
    if (auto id = parse_segment_file_name(name)) logs.insert(*id);
    if (auto id = parse_index_file_name(name)) indexes.insert(*id);
  }

  ShardState state;
  state.shard = shard;
  for (uint32_t id : logs) {
    std::string path = dir + "/" + segment_file_name(id);
    auto fd = io_.open(path, O_RDONLY, 0);
    if (!fd) {
      if (fd.error().code == ENOENT) continue;  // reclaimed since the listing
      return fd.error();
    }
    OpenSegment segment(io_, *fd);
    segment.path = path;
    std::optional<std::string> index_bytes;
    const std::string index_path = dir + "/" + index_file_name(id);
    if (indexes.count(id)) {
      auto bytes = read_whole_file(io_, index_path);
      if (bytes) index_bytes = std::move(*bytes);
    }
    auto loaded = load_segment(
        io_, *fd, shard, id,
        index_bytes ? std::optional<std::string_view>(*index_bytes) : std::nullopt, full_verify);
    if (!loaded) return loaded.error();
    segment.loaded = std::move(*loaded);
    if (report) {
      const LoadedSegment& l = segment.loaded;
      report->segments++;
      report->records += l.records;
      report->bytes += l.file_size;
      report->messages += l.messages.size();
      report->tail_bytes += l.tail_bytes;
      for (const ScanProblem& p : l.corruption) {
        report->problems.push_back(VerifyProblem{path, p.offset, p.length, p.what});
      }
      for (uint64_t key : l.damaged) {
        report->problems.push_back(
            VerifyProblem{path, 0, 0, "message " + format_queue_id(shard, key) + " is damaged"});
      }
      if (index_bytes) check_index(index_path, *index_bytes, l, report->problems);
    }
    state.segments.push_back(std::move(segment));
  }
  // DONE records may sit in any segment of the shard.
  for (OpenSegment& s : state.segments) {
    for (const DoneEntry& d : s.loaded.done_entries) {
      if (StoredMessage* m = state.find(d.key, nullptr)) m->done.set(d.recipient);
    }
  }
  return state;
}

Result<std::vector<ListedMessage>> SpoolReader::list(bool with_content) {
  auto ids = shards();
  if (!ids) return ids.error();
  std::vector<ListedMessage> out;
  for (uint16_t shard : *ids) {
    auto state = load_shard(shard, false, nullptr);
    if (!state) return state.error();
    for (OpenSegment& s : state->segments) {
      for (const StoredMessage& m : s.loaded.messages) {
        if (m.done.all()) continue;
        ListedMessage listed;
        listed.queue_id = format_queue_id(shard, m.key);
        listed.shard = shard;
        listed.file = s.path;
        listed.offset = m.first_offset;
        listed.size = m.content_length;
        listed.done = m.done;
        auto envelope = read_envelope(io_, s.fd, s.loaded.nonce, m);
        if (envelope) {
          listed.envelope = std::move(*envelope);
        } else {
          listed.problem = envelope.error().message;
        }
        if (with_content && listed.envelope) {
          std::string content;
          content.reserve(m.content_length);
          auto ok = read_content(io_, s.fd, s.loaded.nonce, m, [&](std::string_view piece) {
            content.append(piece);
            return Result<void>();
          });
          if (ok) {
            listed.content = std::move(content);
          } else {
            listed.envelope.reset();
            listed.problem = ok.error().message;
          }
        }
        out.push_back(std::move(listed));
      }
    }
  }
  return out;
}

Result<ShownMessage> SpoolReader::show(std::string_view queue_id) {
  auto id = parse_queue_id(queue_id);
  if (!id) return make_error(EINVAL, "not a queue id: " + std::string(queue_id));
  auto state = load_shard(id->shard, false, nullptr);
  if (!state) {
    if (state.error().code == ENOENT)
      return make_error(ENOENT, "no message " + std::string(queue_id));
    return state.error();
  }
  OpenSegment* owner = nullptr;
  StoredMessage* m = state->find(message_key(id->segment, id->number), &owner);
  if (!m) return make_error(ENOENT, "no message " + std::string(queue_id));
  ShownMessage shown;
  ListedMessage& listed = shown.listing;
  listed.queue_id = format_queue_id(*id);
  listed.shard = id->shard;
  listed.file = owner->path;
  listed.offset = m->first_offset;
  listed.size = m->content_length;
  listed.done = m->done;
  auto envelope = read_envelope(io_, owner->fd, owner->loaded.nonce, *m);
  if (!envelope) return envelope.error();
  listed.envelope = std::move(*envelope);
  shown.content.reserve(m->content_length);
  auto ok = read_content(io_, owner->fd, owner->loaded.nonce, *m, [&](std::string_view piece) {
    shown.content.append(piece);
    return Result<void>();
  });
  if (!ok) return ok.error();
  return shown;
}

Result<VerifyReport> SpoolReader::verify() {
  auto ids = shards();
  if (!ids) return ids.error();
  VerifyReport report;
  for (uint16_t shard : *ids) {
    report.shards++;
    auto state = load_shard(shard, true, &report);
    if (!state) return state.error();
  }
  return report;
}

}  // namespace postcore::spool
