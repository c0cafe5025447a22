#pragma once

// The JSON documents that typed row fields are kept as in TEXT columns, for the SqliteStore
// method files (both engines); not part of the store's interface. A document that does not
// read back (malformed JSON, or a shape Berth never writes) is Error{internal} naming its
// column, never a crash. Fields a document lacks read as their defaults, so documents written
// by earlier versions read back as they always did.

#include <map>
#include <string>
#include <vector>

#include "store/rows.hpp"

namespace berth::store::sqlite {

// provisioner_jobs.input: {"template_version_id", "user_variable_values"} for an import,
// {"workspace_build_id"} for a build.
std::string job_input_json(const ProvisionerJobInput& input);
ProvisionerJobInput job_input_from_json(const std::string& text, const char* column);

// provisioner_jobs.tags, and a daemon's tags when it acquires a job: an object of strings.
std::string tags_json(const std::map<std::string, std::string>& tags);
std::map<std::string, std::string> tags_from_json(const std::string& text, const char* column);

// templates.policy: an object with one member per TemplatePolicy field.
std::string policy_json(const TemplatePolicy& policy);
TemplatePolicy policy_from_json(const std::string& text, const char* column);

// template_versions.user_variable_values: [{"name", "value"}].
std::string variable_values_json(const std::vector<VariableValue>& values);
std::vector<VariableValue> variable_values_from_json(const std::string& text, const char* column);

// workspace_resources.metadata: [{"key", "value", "sensitive"}].
std::string resource_metadata_json(const std::vector<ResourceMetadataItem>& items);
std::vector<ResourceMetadataItem> resource_metadata_from_json(const std::string& text,
                                                              const char* column);

}  // namespace berth::store::sqlite
