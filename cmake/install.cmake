# Installs the header, both libraries, fastrelu.pc and the fastrelu:: CMake package.
include(CMakePackageConfigHelpers)

set(FASTRELU_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fastrelu)

install(FILES include/fastrelu.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS fastrelu fastrelu_static EXPORT fastreluTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT fastreluTargets NAMESPACE fastrelu:: DESTINATION ${FASTRELU_CMAKE_DIR})

configure_package_config_file(cmake/fastreluConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/fastreluConfig.cmake
                              INSTALL_DESTINATION ${FASTRELU_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/fastreluConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fastreluConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/fastreluConfigVersion.cmake
        DESTINATION ${FASTRELU_CMAKE_DIR})

# The prefix is written relative to the installed .pc file itself (pkg-config
# expands ${pcfiledir}), so the tree works wherever `cmake --install --prefix`
# puts it, not only at the CMAKE_INSTALL_PREFIX chosen at configure time.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(FASTRELU_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH FASTRELU_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" FASTRELU_PC_UP "${FASTRELU_PC_UP}")
  set(FASTRELU_PC_PREFIX "\${pcfiledir}/${FASTRELU_PC_UP}")
endif()

# pkg-config paths come from the install directories, absolute or relative to the prefix.
foreach(kind INCLUDEDIR LIBDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(FASTRELU_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(FASTRELU_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
configure_file(cmake/fastrelu.pc.in ${CMAKE_CURRENT_BINARY_DIR}/fastrelu.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fastrelu.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
