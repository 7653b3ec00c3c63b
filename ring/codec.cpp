#include "ring/codec.h"

#include <snappy.h>

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

#include "proto/ha_tracker.pb.h"
#include "ring/protowire.h"

namespace ringwatch::ring {

namespace {

using wire::Reader;

Error bad(std::string_view what) { return fail(Reject::decode, std::string(what)); }

// Repeated uint32, packed (wire type 2) or one unpacked element (wire type 0), as Go accepts.
bool read_uint32s(Reader& r, uint32_t wire_type, std::vector<uint32_t>& out) {
  uint64_t v;
  if (wire_type == wire::kVarint) {
    if (!r.varint(v)) return false;
    out.push_back(static_cast<uint32_t>(v));
    return true;
  }
  if (wire_type != wire::kLen) return false;
  std::string_view packed;
  if (!r.bytes(packed)) return false;
  // Every element ends with one byte below 0x80: count them to allocate once.
  size_t n = 0;
  for (unsigned char c : packed) n += c < 0x80;
  out.reserve(out.size() + n);
  Reader pr(packed);
  while (!pr.done()) {
    if (!pr.varint(v)) return false;
    out.push_back(static_cast<uint32_t>(v));
  }
  return true;
}

bool read_varint_field(Reader& r, uint32_t wire_type, uint64_t& v) { return wire_type == wire::kVarint && r.varint(v); }

bool read_len_field(Reader& r, uint32_t wire_type, std::string_view& v) { return wire_type == wire::kLen && r.bytes(v); }

// map<uint64,uint64> entry.
bool read_versions_entry(std::string_view entry, std::map<uint64_t, uint64_t>& out) {
  Reader r(entry);
  uint64_t key = 0, value = 0;
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return false;
    if (field == 1) {
      if (!read_varint_field(r, wt, key)) return false;
    } else if (field == 2) {
      if (!read_varint_field(r, wt, value)) return false;
    } else if (!r.skip(wt)) {
      return false;
    }
  }
  out[key] = value;
  return true;
}

bool parse_instance(std::string_view bytes, InstanceDesc& d) {
  Reader r(bytes);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return false;
    uint64_t v;
    std::string_view s;
    switch (field) {
      case 1:
        if (!read_len_field(r, wt, s)) return false;
        d.addr.assign(s);
        break;
      case 2:
        if (!read_varint_field(r, wt, v)) return false;
        d.timestamp = static_cast<int64_t>(v);
        break;
      case 3:
        if (!read_varint_field(r, wt, v)) return false;
        d.state = static_cast<InstanceState>(static_cast<int32_t>(v));
        break;
      case 6:
        if (!read_uint32s(r, wt, d.tokens)) return false;
        break;
      case 7:
        if (!read_len_field(r, wt, s)) return false;
        d.zone.assign(s);
        break;
      case 8:
        if (!read_varint_field(r, wt, v)) return false;
        d.registered_timestamp = static_cast<int64_t>(v);
        break;
      case 9:
        if (!read_len_field(r, wt, s)) return false;
        d.id.assign(s);
        break;
      case 10:
        if (!read_varint_field(r, wt, v)) return false;
        d.read_only_updated_timestamp = static_cast<int64_t>(v);
        break;
      case 11:
        if (!read_varint_field(r, wt, v)) return false;
        d.read_only = v != 0;
        break;
      case 12:
        if (!read_len_field(r, wt, s) || !read_versions_entry(s, d.versions)) return false;
        break;
      default:
        if (!r.skip(wt)) return false;
    }
  }
  return true;
}

bool parse_partition(std::string_view bytes, PartitionDesc& d) {
  Reader r(bytes);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return false;
    uint64_t v;
    switch (field) {
      case 1:
        if (!read_uint32s(r, wt, d.tokens)) return false;
        break;
      case 2:
        if (!read_varint_field(r, wt, v)) return false;
        d.state = static_cast<PartitionState>(static_cast<int32_t>(v));
        break;
      case 3:
        if (!read_varint_field(r, wt, v)) return false;
        d.state_timestamp = static_cast<int64_t>(v);
        break;
      case 4:
        if (!read_varint_field(r, wt, v)) return false;
        d.id = static_cast<int32_t>(v);
        break;
      case 5:
        if (!read_varint_field(r, wt, v)) return false;
        d.state_change_locked = v != 0;
        break;
      case 6:
        if (!read_varint_field(r, wt, v)) return false;
        d.state_change_locked_timestamp = static_cast<int64_t>(v);
        break;
      default:
        if (!r.skip(wt)) return false;
    }
  }
  return true;
}

bool parse_owner(std::string_view bytes, OwnerDesc& d) {
  Reader r(bytes);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return false;
    uint64_t v;
    if (field >= 1 && field <= 3) {
      if (!read_varint_field(r, wt, v)) return false;
      if (field == 1) d.owned_partition = static_cast<int32_t>(v);
      if (field == 2) d.state = static_cast<OwnerState>(static_cast<int32_t>(v));
      if (field == 3) d.updated_timestamp = static_cast<int64_t>(v);
    } else if (!r.skip(wt)) {
      return false;
    }
  }
  return true;
}

bool parse_beacon(std::string_view bytes, BeaconDesc& d) {
  Reader r(bytes);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return false;
    uint64_t v;
    std::string_view s;
    if (field == 1 || field == 2) {
      if (!read_varint_field(r, wt, v)) return false;
      (field == 1 ? d.published_at : d.deleted_at) = static_cast<int64_t>(v);
    } else if (field == 3) {
      if (!read_len_field(r, wt, s)) return false;
      d.published_by.assign(s);
    } else if (!r.skip(wt)) {
      return false;
    }
  }
  return true;
}

// A map entry {1: key, 2: value message}; either may be missing (standard proto semantics).
template <class KeyReader, class ValueParser>
bool parse_map_entry(std::string_view entry, KeyReader&& read_key, ValueParser&& parse_value) {
  Reader r(entry);
  std::string_view value;
  bool has_value = false;
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return false;
    if (field == 1) {
      if (!read_key(r, wt)) return false;
    } else if (field == 2) {
      // Go's generated code merges repeated occurrences; dskit never sends them, last one wins here.
      if (!read_len_field(r, wt, value)) return false;
      has_value = true;
    } else if (!r.skip(wt)) {
      return false;
    }
  }
  return parse_value(has_value ? value : std::string_view{});
}

// Unix nanoseconds of an RFC 3339 timestamp as Go's time.Time JSON writes it; nullopt if malformed.
std::optional<int64_t> parse_rfc3339_nanos(std::string_view s) {
  auto num = [&](size_t pos, size_t len, int& out) {
    if (pos + len > s.size()) return false;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc() && p == s.data() + pos + len;
  };
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) ||
      (s[10] != 'T' && s[10] != 't') || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' ||
      !num(17, 2, sec))
    return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    int digits = 0;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits)
      if (digits < 9) frac = frac * 10 + (s[pos] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) frac *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!num(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !num(pos + 4, 2, om)) return std::nullopt;
    offset = (s[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  // Days from civil date (proleptic Gregorian), Howard Hinnant's algorithm.
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(mo + (mo > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
  // Outside int64 Unix nanoseconds (about 1678-2262), where Go's UnixNano is undefined too.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (secs > kMax / 1000000000 || secs < std::numeric_limits<int64_t>::min() / 1000000000) return std::nullopt;
  if (secs > 0 && frac > kMax - secs * 1000000000) return std::nullopt;
  return secs * 1000000000 + frac;
}

// Decodes the snappy block value and hands the protobuf to `parse`. Empty bytes = empty value.
template <class T, class Parse>
Result<T> decode_snappy_proto(std::string_view value, Parse&& parse) {
  if (value.empty()) return T{};
  auto raw = snappy_decode(value);
  if (!raw) return raw.error();
  return parse(std::string_view(*raw));
}

}  // namespace

Result<std::string> snappy_decode(std::string_view compressed, size_t max_bytes) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &n))
    return fail(Reject::decompress, "snappy: bad length header");
  if (n > max_bytes) return fail(Reject::oversize, "snappy: declared length " + std::to_string(n));
  // Each snappy element yields at most 64 bytes per input byte; a larger claim cannot be honest,
  // so refuse it before allocating.
  if (n > compressed.size() * 64 + 64) return fail(Reject::decompress, "snappy: declared length exceeds input");
  std::string out(n, '\0');
  if (!snappy::RawUncompress(compressed.data(), compressed.size(), out.data()))
    return fail(Reject::decompress, "snappy: corrupt block");
  return out;
}

Result<KeyValuePair> decode_key_value_pair(std::string_view bytes) {
  KeyValuePair kv;
  Reader r(bytes);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return bad("KeyValuePair: bad tag");
    uint64_t v;
    std::string_view s;
    bool ok = true;
    switch (field) {
      case 1: ok = read_len_field(r, wt, s) && (kv.key.assign(s), true); break;
      case 2: ok = read_len_field(r, wt, s) && (kv.value.assign(s), true); break;
      case 3: ok = read_len_field(r, wt, s) && (kv.codec.assign(s), true); break;
      case 4: ok = read_varint_field(r, wt, v) && ((kv.deleted = v != 0), true); break;
      case 5: ok = read_varint_field(r, wt, v) && ((kv.update_time_millis = static_cast<int64_t>(v)), true); break;
      default: ok = r.skip(wt);
    }
    if (!ok) return bad("KeyValuePair: bad field " + std::to_string(field));
  }
  return kv;
}

PushPullState decode_push_pull_state(std::string_view bytes) {
  PushPullState out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) {
      out.stopped = fail(Reject::truncated, "push/pull: partial length at offset " + std::to_string(pos));
      break;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + pos);
    const size_t len = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
    pos += 4;
    if (len > bytes.size() - pos) {
      out.stopped = fail(Reject::truncated, "push/pull: record of " + std::to_string(len) + " bytes exceeds input");
      break;
    }
    auto kv = decode_key_value_pair(bytes.substr(pos, len));
    if (!kv) {
      out.stopped = kv.error();
      break;
    }
    out.records.push_back(std::move(*kv));
    pos += len;
  }
  return out;
}

Codec codec_from_id(std::string_view id) {
  if (id == "ringDesc") return Codec::ring_desc;
  if (id == "partitionRingDesc") return Codec::partition_ring_desc;
  if (id == "propagationDelayTracker") return Codec::propagation_delay_tracker;
  if (id == "replicaDesc") return Codec::replica_desc;
  if (id == "usagestats.jsonCodec") return Codec::usage_stats_json;
  return Codec::unknown;
}

const char* codec_id(Codec c) {
  switch (c) {
    case Codec::ring_desc: return "ringDesc";
    case Codec::partition_ring_desc: return "partitionRingDesc";
    case Codec::propagation_delay_tracker: return "propagationDelayTracker";
    case Codec::replica_desc: return "replicaDesc";
    case Codec::usage_stats_json: return "usagestats.jsonCodec";
    case Codec::unknown: break;
  }
  return "";
}

const char* instance_state_name(InstanceState s) {
  switch (s) {
    case InstanceState::active: return "ACTIVE";
    case InstanceState::leaving: return "LEAVING";
    case InstanceState::pending: return "PENDING";
    case InstanceState::joining: return "JOINING";
    case InstanceState::left: return "LEFT";
  }
  return "UNKNOWN";
}

Result<InstanceDesc> decode_instance_desc_proto(std::string_view protobuf) {
  InstanceDesc d;
  if (!parse_instance(protobuf, d)) return bad("InstanceDesc");
  return d;
}

Result<RingDesc> decode_ring_desc_proto(std::string_view protobuf) {
  RingDesc desc;
  Reader r(protobuf);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return bad("Desc: bad tag");
    if (field != 1) {
      if (!r.skip(wt)) return bad("Desc: bad field");
      continue;
    }
    std::string_view entry;
    if (!read_len_field(r, wt, entry)) return bad("Desc: bad ingesters entry");
    std::string id;
    const bool ok = parse_map_entry(
        entry,
        [&](Reader& er, uint32_t ewt) {
          std::string_view k;
          if (!read_len_field(er, ewt, k)) return false;
          id.assign(k);
          return true;
        },
        [&](std::string_view value) {
          InstanceDesc inst;
          if (!parse_instance(value, inst)) return false;
          desc.ingesters.insert_or_assign(std::move(id), std::move(inst));
          return true;
        });
    if (!ok) return bad("Desc: bad InstanceDesc");
  }
  return desc;
}

Result<PartitionRingDesc> decode_partition_ring_desc_proto(std::string_view protobuf) {
  PartitionRingDesc desc;
  Reader r(protobuf);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return bad("PartitionRingDesc: bad tag");
    std::string_view entry;
    if (field != 1 && field != 2) {
      if (!r.skip(wt)) return bad("PartitionRingDesc: bad field");
      continue;
    }
    if (!read_len_field(r, wt, entry)) return bad("PartitionRingDesc: bad map entry");
    bool ok;
    if (field == 1) {
      int32_t id = 0;
      ok = parse_map_entry(
          entry,
          [&](Reader& er, uint32_t ewt) {
            uint64_t k;
            if (!read_varint_field(er, ewt, k)) return false;
            id = static_cast<int32_t>(k);
            return true;
          },
          [&](std::string_view value) {
            PartitionDesc p;
            if (!parse_partition(value, p)) return false;
            desc.partitions.insert_or_assign(id, std::move(p));
            return true;
          });
    } else {
      std::string id;
      ok = parse_map_entry(
          entry,
          [&](Reader& er, uint32_t ewt) {
            std::string_view k;
            if (!read_len_field(er, ewt, k)) return false;
            id.assign(k);
            return true;
          },
          [&](std::string_view value) {
            OwnerDesc o;
            if (!parse_owner(value, o)) return false;
            desc.owners.insert_or_assign(std::move(id), o);
            return true;
          });
    }
    if (!ok) return bad("PartitionRingDesc: bad entry");
  }
  return desc;
}

Result<PropagationDelayTrackerDesc> decode_propagation_tracker_proto(std::string_view protobuf) {
  PropagationDelayTrackerDesc desc;
  Reader r(protobuf);
  while (!r.done()) {
    uint32_t field, wt;
    if (!r.tag(field, wt)) return bad("PropagationDelayTrackerDesc: bad tag");
    if (field != 1) {
      if (!r.skip(wt)) return bad("PropagationDelayTrackerDesc: bad field");
      continue;
    }
    std::string_view entry;
    if (!read_len_field(r, wt, entry)) return bad("PropagationDelayTrackerDesc: bad entry");
    uint64_t id = 0;
    const bool ok = parse_map_entry(
        entry, [&](Reader& er, uint32_t ewt) { return read_varint_field(er, ewt, id); },
        [&](std::string_view value) {
          BeaconDesc b;
          if (!parse_beacon(value, b)) return false;
          desc.beacons.insert_or_assign(id, std::move(b));
          return true;
        });
    if (!ok) return bad("PropagationDelayTrackerDesc: bad beacon");
  }
  return desc;
}

// Small and rare: the generated parser is fast enough here.
Result<ReplicaDesc> decode_replica_desc_proto(std::string_view protobuf) {
  distributor::ReplicaDesc pb;
  if (protobuf.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !pb.ParseFromArray(protobuf.data(), static_cast<int>(protobuf.size())))
    return bad("ReplicaDesc");
  return ReplicaDesc{pb.replica(), pb.received_at(), pb.deleted_at(), pb.elected_at(), pb.elected_changes()};
}

Result<RingDesc> decode_ring_desc(std::string_view value) {
  return decode_snappy_proto<RingDesc>(value, decode_ring_desc_proto);
}
Result<PartitionRingDesc> decode_partition_ring_desc(std::string_view value) {
  return decode_snappy_proto<PartitionRingDesc>(value, decode_partition_ring_desc_proto);
}
Result<PropagationDelayTrackerDesc> decode_propagation_tracker(std::string_view value) {
  return decode_snappy_proto<PropagationDelayTrackerDesc>(value, decode_propagation_tracker_proto);
}
Result<ReplicaDesc> decode_replica_desc(std::string_view value) {
  return decode_snappy_proto<ReplicaDesc>(value, decode_replica_desc_proto);
}

Result<UsageStatsSeed> decode_usage_stats_seed(std::string_view value) {
  UsageStatsSeed seed;
  if (value.empty()) return seed;
  const auto doc = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("usagestats: not a JSON object");
  if (auto it = doc.find("UID"); it != doc.end() && it->is_string()) seed.uid = it->get<std::string>();
  if (auto it = doc.find("created_at"); it != doc.end() && it->is_string()) {
    seed.created_at = it->get<std::string>();
    seed.created_at_nanos = parse_rfc3339_nanos(seed.created_at).value_or(0);
  }
  seed.json.assign(value);
  return seed;
}

}  // namespace ringwatch::ring
