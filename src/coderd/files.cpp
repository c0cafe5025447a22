#include "coderd/files.hpp"

#include "archive/tar_reader.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"

namespace berth::coderd {

UploadedFile upload_file(store::Store& store, const Clock& clock, const Subject& actor,
                         const std::string& mimetype, const std::string& data) {
  if (mimetype != kTarMimeType)
    throw Error{ErrorCode::invalid, "Unsupported content type header \"" + mimetype + "\".",
                "Upload template archives as application/x-tar."};
  if (data.empty()) throw Error{ErrorCode::invalid, "The uploaded file is empty."};
  archive::read_tar(data);  // throws, naming the entry, if it would not unpack safely
  auto hash = to_hex(sha256(data));
  UploadedFile out;
  store.in_tx([&](store::Store& tx) {
    if (auto existing = tx.get_file_by_hash_and_creator(hash, actor.user_id)) {
      out.file = std::move(*existing);
      return;
    }
    out.file = store::FileRow{Uuid::random_v4(), hash, actor.user_id, clock.now(), mimetype, data};
    out.created = true;
    tx.insert_file(out.file);
  });
  return out;
}

}  // namespace berth::coderd
