// Builds the seed corpus of every fuzz target (fuzz/targets/<name>.cpp -> <out>/<name>/) from
// the real dskit captures in tests/fixtures/dskit-2023: every packet frame, packet payload,
// CRC body, compound body, message, LZW buffer, stream direction, push/pull user state,
// KeyValuePair and codec value in them, plus the .ringdesc.bin files and config/*.y*ml. What
// the captures do not hold (encrypted packets and streams, the partition ring, propagation
// tracker, HA replica and usage-stats codecs, ping/ack/err streams) is built from their
// contents with ringwatch's own encoders and the generated protobuf classes.
//
// Usage: fuzz_corpus <source dir> <output dir>. Seeds are named by a hash of their bytes, so a
// rebuild is reproducible and duplicates collapse. Prints the number of seeds per target.
#include <snappy.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "gossip/compression.h"
#include "gossip/messages.h"
#include "gossip/packet.h"
#include "gossip/security.h"
#include "gossip/stream.h"
#include "gossip/transport_frame.h"
#include "proto/ha_tracker.pb.h"
#include "proto/kv.pb.h"
#include "proto/partition_ring_desc.pb.h"
#include "proto/propagation_tracker.pb.h"
#include "ring/codec.h"
#include "tests/support/pcap_replay.h"

namespace fs = std::filesystem;
using namespace ringwatch;
using namespace ringwatch::gossip;
namespace rw_ring = ringwatch::ring;  // ::ring is the generated protobuf package

namespace {

constexpr std::string_view kLabel = "prod-eu";  // fuzz/common.h's
constexpr std::size_t kMaxSeed = 1u << 20;

fs::path g_out;
std::map<std::string, std::set<std::string>> g_seeds;  // target -> file names written

std::string hash_name(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void add(const std::string& target, std::string_view bytes) {
  if (bytes.size() > kMaxSeed) return;
  const std::string name = hash_name(bytes);
  if (!g_seeds[target].insert(name).second) return;
  fs::create_directories(g_out / target);
  std::ofstream(g_out / target / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
void add(const std::string& target, ByteView bytes) { add(target, as_chars(bytes)); }
void add(const std::string& target, std::uint8_t prefix, ByteView bytes) {
  std::string s(1, static_cast<char>(prefix));
  s.append(as_chars(bytes));
  add(target, s);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The keyrings the seeds encrypt with: fuzz/common.h's fixed keyring is {16, 24, 32 bytes};
// seeds use its primary (16) and its last key (32), so both lookups are covered.
Bytes key_of(std::size_t n) {
  Bytes k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(0x40 + n + i);
  return k;
}
const Keyring& seed_keyring(int which) {
  static const Keyring k16 = *Keyring::make({key_of(16)});
  static const Keyring k32 = *Keyring::make({key_of(32)});
  return which == 0 ? k16 : k32;
}
Bytes fixed_nonce(std::uint8_t salt) {
  Bytes n(kNonceSize);
  for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::uint8_t>(salt + i);
  return n;
}

// kv_store operations: [op][len u24 BE][bytes].
std::string kv_op(std::uint8_t op, std::string_view bytes) {
  std::string s;
  s.push_back(static_cast<char>(op));
  s.push_back(static_cast<char>((bytes.size() >> 16) & 0xff));
  s.push_back(static_cast<char>((bytes.size() >> 8) & 0xff));
  s.push_back(static_cast<char>(bytes.size() & 0xff));
  s.append(bytes);
  return s;
}

// A codec value (snappy block, or JSON) and the KeyValuePair around it.
void add_value(const std::string& codec, std::string_view value) {
  if (codec != "usagestats.jsonCodec") add("snappy", value);
  const rw_ring::Codec kind = rw_ring::codec_from_id(codec);
  if (kind == rw_ring::Codec::usage_stats_json) {
    add("usage_stats_seed", value);
    return;
  }
  auto plain = rw_ring::snappy_decode(value);
  if (!plain) return;
  switch (kind) {
    case rw_ring::Codec::ring_desc: add("ring_desc", *plain); break;
    case rw_ring::Codec::partition_ring_desc: add("partition_ring_desc", *plain); break;
    case rw_ring::Codec::propagation_delay_tracker: add("propagation_tracker", *plain); break;
    case rw_ring::Codec::replica_desc: add("replica_desc", *plain); break;
    default: break;
  }
}

void add_kv_pair(std::string_view kv, std::string* kv_sequence) {
  add("kv_pair", kv);
  add("kv_store", kv_op(0, kv));
  if (kv_sequence && kv_sequence->size() < 64 * 1024) *kv_sequence += kv_op(0, kv);
  auto d = rw_ring::decode_key_value_pair(kv);
  if (d) add_value(d->codec, d->value);
}

void add_user_state(ByteView state, std::string* kv_sequence) {
  add("push_pull_state", state);
  add("kv_store", kv_op(1, as_chars(state)));
  if (kv_sequence && kv_sequence->size() < 64 * 1024) *kv_sequence += kv_op(1, as_chars(state));
  auto st = rw_ring::decode_push_pull_state(as_chars(state));
  for (const auto& r : st.records) {
    memberlist::KeyValuePair pb;
    pb.set_key(r.key);
    pb.set_value(r.value);
    pb.set_codec(r.codec);
    pb.set_deleted(r.deleted);
    pb.set_update_time_millis(r.update_time_millis);
    add_kv_pair(pb.SerializeAsString(), nullptr);
  }
}

// A message as found inside a packet (after label and CRC): recurse through compress and
// compound down to the msgpack messages.
void add_message(ByteView msg, std::string* kv_sequence, int depth = 0) {
  if (msg.empty() || depth > 8) return;
  add("message", msg);
  switch (static_cast<MessageType>(msg[0])) {
    case MessageType::compress: {
      auto c = decode_body<Compress>(msg.subspan(1));
      if (!c) return;
      if (c->algo == 0) add("lzw", c->buf);
      auto plain = decompress(*c, kDefaultMaxDecompressed);
      if (!plain) return;
      add("lzw_roundtrip", *plain);
      add_message(*plain, kv_sequence, depth + 1);
      return;
    }
    case MessageType::compound: {
      add("compound", msg.subspan(1));
      auto split = split_compound(msg.subspan(1));
      if (!split) return;
      for (ByteView part : split->parts) add_message(part, kv_sequence, depth + 1);
      return;
    }
    case MessageType::user: add_kv_pair(as_chars(msg.subspan(1)), kv_sequence); return;
    default: return;
  }
}

// The innermost (uncompressed) message of a packet, for re-encoding with other layers.
Bytes uncompressed(ByteView msg) {
  if (!msg.empty() && msg[0] == static_cast<std::uint8_t>(MessageType::compress)) {
    auto c = decode_body<Compress>(msg.subspan(1));
    if (c) {
      auto plain = decompress(*c, kDefaultMaxDecompressed);
      if (plain) return *plain;
    }
  }
  return Bytes(msg.begin(), msg.end());
}

// Packet and aes_gcm seeds for one plain message, encrypted the way a Go node with a keyring
// sends it (packet target options byte: bit 0 = our label is "prod-eu").
void add_encrypted_packet(ByteView plain, bool labelled, bool crc, bool compress, int n) {
  const std::string label = labelled ? std::string(kLabel) : std::string();
  PacketEncodeOptions enc;
  enc.label = label;
  enc.crc = crc;
  enc.compress = compress;
  enc.keyring = &seed_keyring(n % 2);
  enc.encryption_version = (n / 2) % 2;
  enc.nonce = fixed_nonce(static_cast<std::uint8_t>(n));
  auto p = encode_packet(plain, enc);
  if (!p) return;
  add("packet_keyring", labelled ? 1 : 0, *p);
  auto split = split_label(*p);
  if (split) add("aes_gcm", labelled ? 2 : 0, split->rest);  // decrypt_payload, AAD = label
}

void add_packet_connection(const testing::TcpConnection& c, std::string* kv_sequence, int& n) {
  add("transport_frame", c.client_to_server);
  auto frame = parse_packet_frame(c.client_to_server);
  if (!frame) return;
  const ByteView payload = frame->payload;
  add("label", payload);
  auto split = split_label(payload);
  if (!split) return;
  const bool labelled = split->label.has_value();
  add("packet", labelled ? 1 : 0, payload);
  add("crc", split->rest);
  bool had_crc = false;
  auto msg = strip_crc(split->rest, had_crc);
  if (!msg) return;
  add_message(*msg, kv_sequence);
  // Encrypted variants of a sample of the packets (each kind of message is in the first ones).
  if (n++ < 64) add_encrypted_packet(uncompressed(*msg), labelled, had_crc, n % 3 != 0, n);
}

void add_stream_direction(ByteView bytes, bool from_dialer, std::string* kv_sequence, int& n) {
  if (bytes.empty()) return;
  if (from_dialer) add("label", bytes);
  StreamDecodeOptions opts;
  opts.expect_label = from_dialer;
  opts.skip_label_check = true;
  auto step = parse_stream_message(bytes, opts);
  if (!step) return;
  auto* d = std::get_if<StreamDecoded>(&*step);
  if (!d) return;
  const bool labelled = d->layers.label.has_value();
  const std::uint8_t base = static_cast<std::uint8_t>((from_dialer ? 1 : 0) | (labelled ? 4 : 0));
  add("stream", base, bytes);
  ByteView rest = bytes;
  if (from_dialer) {
    auto split = split_label(bytes);
    if (split) rest = split->rest;
  }
  if (!rest.empty() && rest[0] == static_cast<std::uint8_t>(MessageType::compress)) {
    auto c = decode_body<Compress>(rest.subspan(1));
    if (c && c->algo == 0) add("lzw", c->buf);
  }
  auto* pp = std::get_if<PushPull>(&d->message);
  if (!pp) return;
  Bytes header{static_cast<std::uint8_t>(MessageType::push_pull)};
  encode(PushPullHeader{static_cast<std::int64_t>(pp->nodes.size()), static_cast<std::int64_t>(pp->user_state.size()),
                        pp->join},
         header);
  add("message", header);
  for (const PushNodeState& node : pp->nodes) {
    Bytes b{7};  // the message target's slot for a push/pull node state
    encode(node, b);
    add("message", b);
  }
  add_user_state(pp->user_state, kv_sequence);
  const Bytes plain = encode_push_pull(*pp, msgpack::IntForm::unsigned_v05);
  add("lzw_roundtrip", plain);
  // Encrypted variants (stream options bit 1 = keyring).
  if (n++ < 16) {
    StreamEncodeOptions enc;
    enc.label = labelled ? std::string(kLabel) : std::string();
    enc.write_label = from_dialer;
    enc.compress = d->layers.compressed;
    enc.keyring = &seed_keyring(n % 2);
    enc.encryption_version = (n / 2) % 2;
    enc.nonce = fixed_nonce(static_cast<std::uint8_t>(0x80 + n));
    auto e = encode_stream_message(plain, enc);
    if (e) {
      add("stream", static_cast<std::uint8_t>(base | 2), *e);
      ByteView frame = *e;
      if (from_dialer) {
        auto split = split_label(frame);
        if (split) frame = split->rest;
      }
      add("aes_gcm", static_cast<std::uint8_t>(1 | (labelled ? 2 : 0)), frame);
    }
  }
}

void add_capture(const fs::path& pcap) {
  const auto replay = testing::read_pcap_connections(pcap.string());
  std::string kv_sequence;
  int packets = 0, streams = 0;
  for (const auto& c : replay.connections) {
    if (c.client_to_server.empty()) continue;
    if (c.client_to_server[0] == static_cast<std::uint8_t>(ConnectionType::packet)) {
      add_packet_connection(c, &kv_sequence, packets);
    } else if (c.client_to_server[0] == static_cast<std::uint8_t>(ConnectionType::stream)) {
      add_stream_direction(ByteView(c.client_to_server).subspan(1), true, &kv_sequence, streams);
      add_stream_direction(c.server_to_client, false, &kv_sequence, streams);
    }
  }
  // The capture's KV traffic in arrival order, snapshots in between: merges of a real history.
  kv_sequence += kv_op(3, "");
  add("kv_store", kv_sequence);
}

// Messages and stream messages the captures do not hold, from ringwatch's encoders.
void add_synthetic_messages() {
  const Bytes addr4{127, 0, 0, 1};
  const Bytes addr16{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7};
  std::vector<Bytes> msgs = {
      encode(Ping{"peer-a", 42, addr4, "ringwatch", 7946}),
      encode(IndirectPingReq{true, "peer-b", 7947, 43, addr4, "peer-a", 7946, addr16}),
      encode(AckResp{42, Bytes{1, 2, 3}}),
      encode(NackResp{43}),
      encode(ErrResp{"remote error"}),
      encode(Suspect{3, "peer-b", "peer-a"}),
      encode(Dead{3, "peer-c", "peer-c"}),
      encode(Alive{5, "peer-d", addr16, 7949, Bytes{'m'}, Vsn{}}),
      encode(UserPacket{Bytes{0x0a, 1, 'k'}}),
  };
  for (const Bytes& m : msgs) {
    add("message", m);
    add("packet", 0, m);
    Bytes comp = compress_message(m);
    add("packet", 0, comp);
    add("lzw", decode_body<Compress>(ByteView(comp).subspan(1))->buf);
  }
  auto compound = build_compound(msgs);
  if (compound) {
    add("packet", 0, *compound);
    add("compound", ByteView(*compound).subspan(1));
    add("packet", 0, add_crc(compress_message(*compound)));
  }
  // Stream messages other than push/pull: user, ping, ack, err (stream options 0 / 1).
  std::vector<Bytes> stream_msgs = {encode_stream_user(Bytes{0x0a, 1, 'k', 0x1a, 8, 'r', 'i', 'n', 'g', 'D', 'e', 's', 'c'}),
                                    encode(Ping{"peer-a", 9, {}, {}, 0}), encode(AckResp{9, {}}),
                                    encode(ErrResp{"push/pull failed"})};
  for (const Bytes& m : stream_msgs) {
    add("stream", 0, m);
    StreamEncodeOptions enc;
    enc.label = std::string(kLabel);
    auto labelled = encode_stream_message(m, enc);
    if (labelled) add("stream", 1 | 4, *labelled);
    enc.compress = true;
    enc.keyring = &seed_keyring(0);
    enc.nonce = fixed_nonce(0x33);
    auto e = encode_stream_message(m, enc);
    if (e) add("stream", 1 | 2 | 4, *e);
  }
}

std::string snappy(const std::string& plain) {
  std::string out;
  snappy::Compress(plain.data(), plain.size(), &out);
  return out;
}

std::string kv_pair(const std::string& key, const std::string& codec, const std::string& value, bool deleted = false,
                    std::int64_t t = 0) {
  memberlist::KeyValuePair pb;
  pb.set_key(key);
  pb.set_codec(codec);
  pb.set_value(value);
  pb.set_deleted(deleted);
  pb.set_update_time_millis(t);
  return pb.SerializeAsString();
}

// Values of the codecs the captures lack (dskit-kv-ring.md §5.2-§5.5), as KV pairs too.
void add_synthetic_values() {
  ::ring::PartitionRingDesc prd;
  for (int id : {0, 1, 2}) {
    auto& p = (*prd.mutable_partitions())[id];
    p.set_id(id);
    p.set_state(id == 2 ? ::ring::PartitionInactive : ::ring::PartitionActive);
    p.set_statetimestamp(1698400000 + id);
    for (std::uint32_t t = 0; t < 8; ++t) p.add_tokens(t * 0x10000000u + static_cast<std::uint32_t>(id));
    auto& o = (*prd.mutable_owners())["ingester-zone-a-" + std::to_string(id)];
    o.set_ownedpartition(id);
    o.set_state(::ring::OwnerActive);
    o.set_updatedtimestamp(1698400000);
  }
  (*prd.mutable_partitions())[1].set_statechangelocked(true);
  (*prd.mutable_partitions())[1].set_statechangelockedtimestamp(1698400100);
  ::memberlist::PropagationDelayTrackerDesc pdt;
  for (std::uint64_t id : {1ull, 2ull, 0xffffffffffffffffull}) {
    auto& b = (*pdt.mutable_beacons())[id];
    b.set_published_at(1698400000000 + static_cast<std::int64_t>(id % 1000));
    b.set_published_by("ingester-" + std::to_string(id % 7));
    if (id == 2) b.set_deleted_at(1698400005000);
  }
  ::distributor::ReplicaDesc rd;
  rd.set_replica("prometheus-0");
  rd.set_received_at(1698400000000);
  rd.set_elected_at(1698300000000);
  rd.set_elected_changes(3);
  const std::string usage =
      R"({"UID":"4a9f6ed6-3c4a-4e0e-9d8e-3b0f2a2f6c11","created_at":"2023-10-27T10:00:00.123456789Z","version":{"version":"2.10.0","revision":"abc","branch":"HEAD","goVersion":"go1.21.3"}})";
  const std::pair<std::string, std::string> values[] = {
      {"partitionRingDesc", snappy(prd.SerializeAsString())},
      {"propagationDelayTracker", snappy(pdt.SerializeAsString())},
      {"replicaDesc", snappy(rd.SerializeAsString())},
      {"usagestats.jsonCodec", usage},
  };
  const char* keys[] = {"ingester-partitions", "propagation-tracker", "ha-tracker/user-1/cluster", "usagestats_token"};
  std::string sequence;
  for (std::size_t i = 0; i < std::size(values); ++i) {
    const auto& [codec, value] = values[i];
    add_value(codec, value);
    const std::string kv = kv_pair(keys[i], codec, value);
    add_kv_pair(kv, nullptr);
    sequence += kv_op(0, kv);
  }
  // An unknown codec, a deletion, and an obsolete-entries sweep.
  sequence += kv_op(0, kv_pair("custom/key", "someCodec", "opaque"));
  sequence += kv_op(0, kv_pair(keys[2], "replicaDesc", "", true, 1698400001000));
  sequence += kv_op(2, std::string(100, '\0'));
  sequence += kv_op(3, "");
  add("kv_store", sequence);
}

void add_configs(const fs::path& source) {
  for (const auto& e : fs::directory_iterator(source / "config")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".yaml" && e.path().extension() != ".yml") continue;
    add(name.find("web") != std::string::npos ? "web_config" : "config", read_file(e.path()));
  }
  add("config", "");
  add("config",
      "memberlist:\n  cluster_label: prod-eu\n  encryption_keys: [\"MDEyMzQ1Njc4OWFiY2RlZg==\"]\n"
      "  transport: udp\n  bind_addr: [127.0.0.1]\n  join_members: [dns+mimir-gossip-ring:7946]\n"
      "rings:\n  - key: collectors/ring\n    name: ingester\n    heartbeat_timeout: 1m30s\n"
      "    heartbeat_period: 15s\nmetrics:\n  prefix: cortex\n  per_member: true\n  probes: 2\n");
  add("web_config",
      "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: ca.crt\n  min_version: TLS12\n  max_version: TLS13\nhttp_server_config:\n  http2: false\n"
      "  headers:\n    Strict-Transport-Security: max-age=31536000\n");
  add("web_config", "");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <source dir> <output dir>\n", argv[0]);
    return 2;
  }
  const fs::path source = argv[1];
  g_out = argv[2];
  fs::remove_all(g_out);
  fs::create_directories(g_out);
  const fs::path fixtures = source / "tests/fixtures/dskit-2023";
  std::vector<fs::path> pcaps;
  for (const auto& e : fs::directory_iterator(fixtures)) {
    if (e.path().extension() == ".pcap") pcaps.push_back(e.path());
  }
  std::sort(pcaps.begin(), pcaps.end());
  if (pcaps.empty()) {
    std::fprintf(stderr, "fuzz_corpus: no captures in %s\n", fixtures.c_str());
    return 1;
  }
  for (const auto& p : pcaps) add_capture(p);
  for (const auto& e : fs::directory_iterator(fixtures)) {
    if (e.path().extension() == ".bin") add_value("ringDesc", read_file(e.path()));
  }
  add_synthetic_messages();
  add_synthetic_values();
  add_configs(source);
  // Every target gets at least the empty input, so a target without seeds still starts.
  for (const auto& e : fs::directory_iterator(source / "fuzz/targets")) {
    add(e.path().stem().string(), std::string_view());
  }
  for (const auto& [target, names] : g_seeds) std::printf("%-22s %zu seeds\n", target.c_str(), names.size());
  return 0;
}
