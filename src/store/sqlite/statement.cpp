#include "store/sqlite/statement.hpp"

#include "common/error.hpp"

namespace berth::store::sqlite {

Uuid Statement::uuid(int column) const {
  auto id = Uuid::parse(text(column));
  if (!id) throw Error{ErrorCode::internal, "A stored UUID is malformed."};
  return *id;
}

}  // namespace berth::store::sqlite
