#pragma once

#include <string>

#include "coderd/rbac.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// Template archives are tar files; Coder accepts this content type (and zip, which Berth does
// not yet unpack).
inline constexpr const char* kTarMimeType = "application/x-tar";

// The stored file, and whether this upload created it.
struct UploadedFile {
  store::FileRow file;
  bool created = false;
};

// Stores an uploaded archive, content-addressed: the same bytes from the same user return
// the existing file. Refuses archives that would not unpack safely.
UploadedFile upload_file(store::Store& store, const Clock& clock, const Subject& actor,
                         const std::string& mimetype, const std::string& data);

}  // namespace berth::coderd
