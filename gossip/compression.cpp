#include "gossip/compression.h"

#include <snappy.h>

#include <string>

#include "gossip/lzw.h"

namespace ringwatch::gossip {

namespace {

Result<Bytes> snappy_decompress(ByteView buf, std::size_t max_output) {
  const char* data = reinterpret_cast<const char*>(buf.data());
  std::size_t length = 0;
  if (!snappy::GetUncompressedLength(data, buf.size(), &length)) {
    return fail(Reject::decompress, "snappy: bad length header");
  }
  // The header is untrusted: check it against the cap before allocating.
  if (length > max_output) return over_limit(SizeLimit::decompressed, "snappy: output exceeds limit");
  Bytes out(length);
  if (!snappy::RawUncompress(data, buf.size(), reinterpret_cast<char*>(out.data()))) {
    return fail(Reject::decompress, "snappy: corrupt block");
  }
  return out;
}

}  // namespace

Result<Bytes> decompress(const Compress& c, std::size_t max_output) {
  switch (static_cast<CompressionAlgo>(c.algo)) {
    case CompressionAlgo::lzw: return lzw_decompress(c.buf, max_output);
    case CompressionAlgo::snappy: return snappy_decompress(c.buf, max_output);
  }
  return fail(Reject::decompress, "unknown compression algorithm " + std::to_string(c.algo));
}

Result<Bytes> read_compressed(msgpack::Reader& r, std::size_t max_output) {
  Compress c;
  if (auto s = decode(r, c); !s) return s.error();
  return decompress(c, max_output);
}

Bytes compress_message(ByteView message, CompressionAlgo algo) {
  Compress c;
  c.algo = static_cast<std::uint8_t>(algo);
  if (algo == CompressionAlgo::snappy) {
    std::string compressed;
    snappy::Compress(reinterpret_cast<const char*>(message.data()), message.size(), &compressed);
    c.buf.assign(compressed.begin(), compressed.end());
  } else {
    c.buf = lzw_compress(message);
  }
  return encode(c);
}

}  // namespace ringwatch::gossip
