#pragma once

#include "coderd/build_outcome.hpp"
#include "common/clock.hpp"
#include "sdk/provisioner_daemons.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// What a provisioner daemon is handed with a job it acquired, read from the store: the
// template archive and variable values, and for a workspace build everything else the
// provisioner needs (workspace_dir is the daemon's to choose). Throws Error{not_found} naming
// what no longer exists; the job cannot run then.
sdk::AcquiredJob acquired_job(store::Store& store, const store::ProvisionerJobRow& job);

// A build's provisioner answer as rows: resources, and agents with hashed tokens.
BuildOutcome build_outcome(const sdk::BuildResponse& response,
                           const store::WorkspaceBuildRow& build, TimePoint now);

// An import's result between the wire and the store.
store::TemplateVersionImportResult to_import_result(const sdk::TemplateImportResult& result);
sdk::TemplateImportResult to_wire(const store::TemplateVersionImportResult& result);

}  // namespace berth::coderd
