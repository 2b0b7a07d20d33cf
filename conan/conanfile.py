"""Conan 2 recipe for the dragonboat C++ library.

`conan create conan/` builds the library from this repository with the
system's RocksDB, asio, OpenSSL, xxHash, LZ4 and Snappy (Debian packages; offline),
installs it and runs test_package against it. See docs/cpp.md for using
ConanCenter packages instead of the system libraries.
"""

import os

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy


class DragonboatConan(ConanFile):
    name = "dragonboat"
    version = "0.1.0"
    license = "Apache-2.0"
    description = "Multi-group Raft consensus library (C++17 engine, asio, RocksDB)"
    settings = "os", "arch", "compiler", "build_type"
    package_type = "static-library"

    def export_sources(self):
        # The recipe lives in conan/; the sources are the repository around it.
        root = os.path.join(self.recipe_folder, "..")
        for pattern in ("CMakeLists.txt", "cmake/*", "cpp/*", "examples/plugin/*"):
            copy(self, pattern, src=root, dst=self.export_sources_folder)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["DRAGONBOAT_BUILD_TESTS"] = "OFF"
        tc.cache_variables["DRAGONBOAT_BUILD_BENCHMARKS"] = "OFF"
        tc.cache_variables["DRAGONBOAT_BUILD_PYTHON"] = "OFF"
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build(target="dragonboat_core")

    def package(self):
        CMake(self).install()

    def package_info(self):
        # System dependencies, resolved offline (Debian): librocksdb-dev, libssl-dev,
        # libxxhash-dev, liblz4-dev, libsnappy-dev; asio is header-only and used inside the library.
        self.cpp_info.libs = ["dragonboat"]
        self.cpp_info.system_libs = ["rocksdb", "xxhash", "lz4", "snappy", "ssl", "crypto", "pthread", "dl"]
        self.cpp_info.set_property("cmake_file_name", "dragonboat")
        self.cpp_info.set_property("cmake_target_name", "dragonboat::dragonboat")
        self.cpp_info.set_property("pkg_config_name", "dragonboat")
