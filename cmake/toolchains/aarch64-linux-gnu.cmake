# Cross-build for AArch64 with Debian's gcc-aarch64-linux-gnu; libraries come
# from Debian's arm64 multiarch packages (dpkg --add-architecture arm64), and
# ctest runs the binaries under qemu-aarch64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Programs from the host; libraries, headers and packages for the target only.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

find_program(FASTRELU_QEMU_AARCH64 qemu-aarch64 REQUIRED)
# The arm64 loader and libc come from Debian's libc6:arm64 (pulled in by the arm64
# libraries). Not -L /usr/aarch64-linux-gnu: with that sysroot, qemu-aarch64 7.2
# hangs in pthread_create here.
set(CMAKE_CROSSCOMPILING_EMULATOR ${FASTRELU_QEMU_AARCH64})
