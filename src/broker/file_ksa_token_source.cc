#include "broker/file_ksa_token_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace wims::broker {

absl::StatusOr<std::string> read_token_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: a FIFO put in place of the token must not hang the reader.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int error = errno;
    return absl::UnavailableError(
        fmt::format("service-account token file {}: {}{}", path, std::strerror(error),
                    error == ENOENT ? " (is the projected token volume mounted?)" : ""));
  }
  // One byte beyond the limit tells "exactly max_bytes" from "too large".
  std::string content(max_bytes + 1, '\0');
  size_t size = 0;
  while (size < content.size()) {
    const ssize_t n = ::read(fd, content.data() + size, content.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return absl::UnavailableError(
          fmt::format("service-account token file {}: read: {}", path, std::strerror(error)));
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  if (size > max_bytes) {
    return absl::FailedPreconditionError(fmt::format(
        "service-account token file {} is larger than {} bytes: not a service-account token", path,
        max_bytes));
  }
  std::string_view token =
      to_std(absl::StripAsciiWhitespace(absl::string_view(content.data(), size)));
  if (token.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("service-account token file {} is empty", path));
  }
  for (size_t i = 0; i < token.size(); ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return absl::FailedPreconditionError(fmt::format(
          "service-account token file {} does not hold a token: byte 0x{:02x} at offset {}", path,
          c, i));
    }
  }
  return std::string(token);
}

boost::asio::awaitable<absl::StatusOr<std::string>> FileKsaTokenSource::token(const Caller&,
                                                                              std::string) {
  co_return read_token_file(path_, max_bytes_);
}

}  // namespace wims::broker
