// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "git-orchestrate",
  platforms: [.macOS("13.0")],
  products: [
    .executable(name: "git-orchestrate", targets: ["git-orchestrate"]),
    .library(name: "OrchestrateKit", targets: ["OrchestrateKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    // SHA-1 for the index files GitKit writes itself (BoringSSL's, with the CPU's SHA instructions):
    // libgit2's collision-detecting SHA-1 is most of the cost of writing a 20k-entry index.
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
  ],
  targets: [
    .systemLibrary(
      name: "CGit2",
      pkgConfig: "libgit2",
      providers: [.apt(["libgit2-dev"]), .brew(["libgit2"])]
    ),
    // The CA bundle is not parsed while libgit2 starts (Sources/CGit2Start/certificates.c).
    .target(name: "CGit2Start", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
    .target(
      name: "GitKit", dependencies: ["CGit2", "CGit2Start", .product(name: "Crypto", package: "swift-crypto")]),
    .target(
      name: "OrchestrateKit",
      dependencies: ["GitKit", .product(name: "Yams", package: "Yams")]
    ),
    .target(
      name: "OrchestrateMCP",
      dependencies: [
        "OrchestrateKit",
        .product(name: "MCP", package: "swift-sdk"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "git-orchestrate",
      dependencies: [
        "OrchestrateKit", "OrchestrateMCP",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Shared by every test target: temporary repositories, the one deterministic command runner,
    // plan builders, waiting on a condition (as swift-argument-parser's ArgumentParserTestHelpers).
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "GitKitTests", dependencies: ["GitKit", "TestSupport"]),
    .testTarget(
      name: "OrchestrateKitTests", dependencies: ["OrchestrateKit", "GitKit", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(
      name: "OrchestrateMCPTests", dependencies: ["OrchestrateMCP", "OrchestrateKit", "GitKit", "TestSupport"]),
    .testTarget(name: "EndToEndTests", dependencies: ["GitKit", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
