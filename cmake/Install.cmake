# What `cmake --install BUILD [--prefix DIR]` puts in place:
#   bin/catalog-server, bin/catalogctl
#   lib/libmodel_catalog_proto.a       the generated C++ code of proto/ and of the gRPC health
#                                      protocol, as the target modelcatalog::api
#   include/modelcatalog/v1/*.pb.h, include/grpc/health/v1/*.pb.h
#   lib/cmake/ModelCatalogApi/         find_package(ModelCatalogApi CONFIG)
#   share/model-catalog/proto/         the .proto files the library is generated from
#   share/model-catalog/service_config.json   the clients' shared gRPC service config
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MODEL_CATALOG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ModelCatalogApi)

install(TARGETS catalog-server catalogctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(TARGETS model_catalog_proto EXPORT ModelCatalogApiTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The generated headers keep the paths the .proto files import each other by.
install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/modelcatalog
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.pb.h")
install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/grpc/health
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/grpc FILES_MATCHING PATTERN "*.pb.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/modelcatalog
  DESTINATION ${CMAKE_INSTALL_DATADIR}/model-catalog/proto FILES_MATCHING PATTERN "*.proto")
install(FILES ${PROJECT_SOURCE_DIR}/clients/service_config.json
  DESTINATION ${CMAKE_INSTALL_DATADIR}/model-catalog)

install(EXPORT ModelCatalogApiTargets NAMESPACE modelcatalog::
  FILE ModelCatalogApiTargets.cmake DESTINATION ${MODEL_CATALOG_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ModelCatalogApiConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ModelCatalogApiConfig.cmake
  INSTALL_DESTINATION ${MODEL_CATALOG_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_DATADIR)
# Within a major version the API only grows (buf breaking guards it in CI).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ModelCatalogApiConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ModelCatalogApiConfig.cmake
  ${PROJECT_BINARY_DIR}/ModelCatalogApiConfigVersion.cmake
  DESTINATION ${MODEL_CATALOG_CMAKE_DIR})
