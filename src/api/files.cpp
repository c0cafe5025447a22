#include "coderd/files.hpp"
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "coderd/templates.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

Response create_file(Deps& deps, Request& request, const Authenticated& auth) {
  auto type = request.header("content-type").value_or("");
  auto uploaded =
      coderd::upload_file(deps.store, deps.clock, auth.subject, std::string(type), request.body);
  // Coder answers 200 when the same user uploaded the same bytes before, 201 otherwise.
  return http::json_response(uploaded.created ? 201 : 200,
                             json::object{{"hash", uploaded.file.id.to_string()}});
}

Response get_file(Deps& deps, Request& request, const Authenticated& auth) {
  auto id = parse_uuid_param(request, "fileID");
  auto file = deps.store.get_file_by_id(id);
  if (!file) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  // The uploader may read it, and so may whoever may read templates (file → template source).
  bool readable =
      file->created_by == auth.user.id ||
      coderd::authorize(auth.subject, coderd::Action::read,
                        coderd::Object{coderd::Resource::file, std::nullopt, std::nullopt});
  if (!readable) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  Response r;
  r.set_header("Content-Type", file->mimetype);
  r.body = std::move(file->data);
  return r;
}

}  // namespace berth::api
