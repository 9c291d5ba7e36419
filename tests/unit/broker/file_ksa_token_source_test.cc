#include "broker/file_ksa_token_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace wims::broker {
namespace {

namespace asio = boost::asio;

class FileKsaTokenSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "wims-token-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }

  static absl::StatusOr<std::string> token(KsaTokenSource& source) {
    asio::io_context io;
    Caller caller;
    caller.pod.name = "ignored";
    auto future = asio::co_spawn(io, source.token(caller, "sts.amazonaws.com"), asio::use_future);
    io.run();
    return future.get();
  }

  std::filesystem::path dir_;
};

TEST_F(FileKsaTokenSourceTest, ReadsTheTokenAndTrimsSurroundingWhitespace) {
  struct Case {
    const char* name;
    std::string content;
  };
  for (const Case& c : {Case{"plain", "aaa.bbb.ccc"}, Case{"newline", "aaa.bbb.ccc\n"},
                        Case{"crlf and spaces", "  aaa.bbb.ccc\r\n\n"}}) {
    SCOPED_TRACE(c.name);
    FileKsaTokenSource source(write("token", c.content));
    absl::StatusOr<std::string> got = token(source);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, "aaa.bbb.ccc");
  }
}

TEST_F(FileKsaTokenSourceTest, RereadsTheFileOnEveryCallSoARotatedTokenIsUsedAtOnce) {
  const std::string path = write("token", "first.token.value");
  FileKsaTokenSource source(path);
  ASSERT_EQ(token(source).value(), "first.token.value");
  // The kubelet swaps the file (a symlink swap; rename is the same for a reader).
  const std::string next = write("token.next", "second.token.value\n");
  std::filesystem::rename(next, path);
  EXPECT_EQ(token(source).value(), "second.token.value");
}

TEST_F(FileKsaTokenSourceTest, MissingFileIsUnavailableAndNamesTheFile) {
  const std::string path = (dir_ / "absent").string();
  FileKsaTokenSource source(path);
  absl::StatusOr<std::string> got = token(source);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
  EXPECT_NE(got.status().message().find(path), std::string_view::npos) << got.status();
  EXPECT_NE(got.status().message().find("No such file"), std::string_view::npos) << got.status();
}

TEST_F(FileKsaTokenSourceTest, DirectoryIsUnavailable) {
  absl::StatusOr<std::string> got = read_token_file(dir_.string());
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::IsUnavailable(got.status())) << got.status();
}

TEST_F(FileKsaTokenSourceTest, UnreadableContentIsFailedPreconditionWithTheReason) {
  struct Case {
    const char* name;
    std::string content;
    const char* reason;
  };
  const Case cases[] = {
      {"empty", "", "is empty"},
      {"only whitespace", " \n\t\n", "is empty"},
      {"interior space", "aaa bbb", "byte 0x20 at offset 3"},
      {"control byte", std::string("aaa\0bbb", 7), "byte 0x00 at offset 3"},
      {"non-ascii", "tok\xc3\xa9n", "byte 0xc3 at offset 3"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = write("token", c.content);
    absl::StatusOr<std::string> got = read_token_file(path);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(got.status())) << got.status();
    EXPECT_NE(got.status().message().find(c.reason), std::string_view::npos) << got.status();
    EXPECT_NE(got.status().message().find(path), std::string_view::npos) << got.status();
  }
}

TEST_F(FileKsaTokenSourceTest, ReadIsBoundedByMaxBytes) {
  const std::string exact = write("exact", std::string(16, 'a'));
  EXPECT_EQ(read_token_file(exact, 16).value(), std::string(16, 'a'));
  const std::string larger = write("larger", std::string(17, 'a'));
  absl::StatusOr<std::string> got = read_token_file(larger, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(got.status())) << got.status();
  EXPECT_NE(got.status().message().find("larger than 16 bytes"), std::string_view::npos)
      << got.status();
}

TEST_F(FileKsaTokenSourceTest, FifoInPlaceOfTheTokenDoesNotHang) {
  const std::string path = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  // No writer: a blocking open would wait forever; the source reads nothing and reports an empty
  // file.
  absl::StatusOr<std::string> got = read_token_file(path);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(got.status()) || absl::IsUnavailable(got.status()))
      << got.status();
}

}  // namespace
}  // namespace wims::broker
