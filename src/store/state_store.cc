#include "store/state_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace wims::store {
namespace {

// A busy handler rather than SQLITE_BUSY errors: another process (e.g. `wims` CLI inspecting the
// state) may hold the write lock briefly.
constexpr int kBusyTimeoutMs = 5000;

absl::Status sqlite_error(sqlite3* db, std::string_view what) {
  return absl::InternalError(absl::StrCat("sqlite: ", std::string(what), ": ", sqlite3_errmsg(db)));
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  bool bind(int index, std::string_view text) {
    return sqlite3_bind_blob(stmt_, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_TRANSIENT) == SQLITE_OK;
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

std::string column(sqlite3_stmt* stmt, int index) {
  const void* data = sqlite3_column_blob(stmt, index);
  int n = sqlite3_column_bytes(stmt, index);
  return data == nullptr ? std::string()
                         : std::string(static_cast<const char*>(data), static_cast<size_t>(n));
}

}  // namespace

StateStore::~StateStore() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_close(db_);
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path path(dir);
  if (!std::filesystem::exists(path, ec)) {
    if (!std::filesystem::create_directories(path, ec) && ec) {
      return absl::InternalError(
          absl::StrCat("cannot create state directory ", dir, ": ", ec.message()));
    }
    // The directory holds private keys.
    if (::chmod(dir.c_str(), 0700) != 0) {
      return absl::InternalError(absl::StrCat("chmod ", dir, ": ", std::strerror(errno)));
    }
  } else if (!std::filesystem::is_directory(path, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("state path ", dir, " is not a directory"));
  }
  std::string file = (path / "state.db").string();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = absl::InternalError(absl::StrCat(
        "cannot open ", file, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return status;
  }
  ::chmod(file.c_str(), 0600);
  return init(db, /*wal=*/true);
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::open_in_memory() {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      ":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError(
        absl::StrCat("sqlite: cannot open in-memory database: ", sqlite3_errstr(rc)));
  }
  return init(db, /*wal=*/false);
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::init(sqlite3* db, bool wal) {
  std::unique_ptr<StateStore> store(new StateStore(db));
  std::lock_guard<std::mutex> lock(store->mu_);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (wal) WIMS_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL"));
  WIMS_RETURN_IF_ERROR(store->exec("PRAGMA synchronous=NORMAL"));
  WIMS_RETURN_IF_ERROR(store->exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
      " PRIMARY KEY (ns, key)) WITHOUT ROWID;"));
  Statement select(db, "SELECT MAX(version) FROM schema_version");
  if (!select.ok()) return sqlite_error(db, "reading schema version");
  int version = 0;
  if (sqlite3_step(select.get()) == SQLITE_ROW &&
      sqlite3_column_type(select.get(), 0) != SQLITE_NULL) {
    version = sqlite3_column_int(select.get(), 0);
  }
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("state database has schema version ", version,
                                                      ", newer than this wims (", kSchemaVersion,
                                                      ")"));
  }
  if (version == 0) {
    WIMS_RETURN_IF_ERROR(store->exec(
        absl::StrCat("INSERT INTO schema_version (version) VALUES (", kSchemaVersion, ")")
            .c_str()));
  }
  return store;
}

absl::Status StateStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    absl::Status status =
        absl::InternalError(absl::StrCat("sqlite: ", err != nullptr ? err : "error", ": ", sql));
    sqlite3_free(err);
    return status;
  }
  return absl::OkStatus();
}

absl::Status StateStore::put(std::string_view ns, std::string_view key, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt(db_, "INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?1, ?2, ?3)");
  if (!stmt.ok() || !stmt.bind(1, ns) || !stmt.bind(2, key) || !stmt.bind(3, value)) {
    return sqlite_error(db_, "put");
  }
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return sqlite_error(db_, "put");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> StateStore::get(std::string_view ns,
                                                           std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt(db_, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2");
  if (!stmt.ok() || !stmt.bind(1, ns) || !stmt.bind(2, key)) return sqlite_error(db_, "get");
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return sqlite_error(db_, "get");
  return std::optional<std::string>(column(stmt.get(), 0));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> StateStore::list(
    std::string_view ns) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt(db_, "SELECT key, value FROM kv WHERE ns = ?1 ORDER BY key");
  if (!stmt.ok() || !stmt.bind(1, ns)) return sqlite_error(db_, "list");
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    out.emplace_back(column(stmt.get(), 0), column(stmt.get(), 1));
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "list");
  return out;
}

absl::Status StateStore::erase(std::string_view ns, std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt(db_, "DELETE FROM kv WHERE ns = ?1 AND key = ?2");
  if (!stmt.ok() || !stmt.bind(1, ns) || !stmt.bind(2, key)) return sqlite_error(db_, "erase");
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return sqlite_error(db_, "erase");
  return absl::OkStatus();
}

}  // namespace wims::store
