// Status propagation macros: the single error currency of wims is absl::Status / absl::StatusOr<T>.
//
//   WIMS_RETURN_IF_ERROR(store.put(key, value));
//   WIMS_ASSIGN_OR_RETURN(Jwt jwt, Jwt::parse(text));
//
// In coroutines use the CO_ variants, which `co_return` instead of `return`.
// Header-only; thread-safe (no state).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define WIMS_STATUS_CONCAT_INNER(a, b) a##b
#define WIMS_STATUS_CONCAT(a, b) WIMS_STATUS_CONCAT_INNER(a, b)

#define WIMS_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status wims_status_ = (expr);        \
    if (!wims_status_.ok()) return wims_status_; \
  } while (0)

#define WIMS_CO_RETURN_IF_ERROR(expr)               \
  do {                                              \
    ::absl::Status wims_status_ = (expr);           \
    if (!wims_status_.ok()) co_return wims_status_; \
  } while (0)

#define WIMS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, ret) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) ret tmp.status();                      \
  lhs = std::move(*tmp)

#define WIMS_ASSIGN_OR_RETURN(lhs, expr) \
  WIMS_ASSIGN_OR_RETURN_IMPL(WIMS_STATUS_CONCAT(wims_statusor_, __LINE__), lhs, expr, return )

#define WIMS_CO_ASSIGN_OR_RETURN(lhs, expr) \
  WIMS_ASSIGN_OR_RETURN_IMPL(WIMS_STATUS_CONCAT(wims_statusor_, __LINE__), lhs, expr, co_return )
