import Foundation
import TestSupport
import Testing

/// `git orchestrate run` in repositories that are not a plain checkout of `main`, and on content
/// that is more than plain text files: each is a clear error (exit 2) or the right commit on main,
/// checked entry by entry with `git ls-tree -r`, and never a crash.
@Suite("odd repositories", .serialized)
struct OddRepositoryTests {
  static let simple = RunTests.simple(id: "simple").yaml

  static let twoSteps = TestPlan(
    id: "two", description: "two steps",
    subtasks: [
      .makes("one.txt", "1", id: "one", description: "One"), .makes("two.txt", "2", id: "two", description: "Two"),
    ])

  /// `git ls-tree -r` of `rev` as "mode type path" lines keyed by path (object ids left out where noted).
  static func tree(_ box: TemporaryRepository, _ rev: String, in directory: URL? = nil) throws -> [String: String] {
    let text = try box.git("ls-tree", "-r", "-z", rev, in: directory ?? box.url)
    var entries: [String: String] = [:]
    for record in text.split(separator: "\0") {
      let parts = record.split(separator: "\t", maxSplits: 1)
      guard parts.count == 2 else { continue }
      entries[String(parts[1])] = String(parts[0])
    }
    return entries
  }

  func expectNoCrash(_ out: CommandOutput, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!out.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    #expect(!out.stderr.contains("crashed"), sourceLocation: sourceLocation)
    #expect(out.status < 128 || out.status == 130 || out.status == 143, sourceLocation: sourceLocation)
  }

  // MARK: - Repository shapes

  @Test("an empty bare repository: exit 2 naming the missing branch, nothing under refs/heads")
  func emptyBare() throws {
    let box = try TemporaryRepository()
    let bare = try box.makeRepository("empty.git", options: ["--bare"])
    try Data(Self.simple.utf8).write(to: box.root.appendingPathComponent("simple.yml"))
    let out = box.orchestrate(["run", box.root.appendingPathComponent("simple.yml").path], in: bare)
    expectNoCrash(out)
    #expect(out.status == 2, "\(out.stdout)\n\(out.stderr)")
    #expect(out.stderr.contains("'main' does not exist or has no commit"), "\(out.stderr)")
    #expect(try box.git("for-each-ref", "refs/heads", in: bare) == "")
  }

  @Test("a bare repository with history: the run works in its own worktree and main gets the commit")
  func bareWithHistory() throws {
    let box = try TemporaryRepository()
    let bare = box.root.appendingPathComponent("clone.git")
    try box.git("clone", "-q", "--bare", box.url.path, bare.path, in: box.root)
    try Data(Self.simple.utf8).write(to: box.root.appendingPathComponent("simple.yml"))
    let out = box.orchestrate(["run", box.root.appendingPathComponent("simple.yml").path], in: bare)
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    let tree = try Self.tree(box, "main", in: bare)
    #expect(Set(tree.keys) == ["README.md", "made.txt"])
    #expect(try box.git("show", "main:made.txt", in: bare) == "made")
    #expect(try box.git("fsck", "--strict", in: bare).isEmpty)
  }

  @Test("an unborn main: exit 2 saying to make a first commit; after one, the run completes")
  func unbornMain() throws {
    let box = try TemporaryRepository()
    let repo = try box.makeRepository("unborn")
    try Data(Self.simple.utf8).write(to: repo.appendingPathComponent("simple.yml"))
    let out = box.orchestrate(["run", "simple.yml"], in: repo)
    expectNoCrash(out)
    #expect(out.status == 2)
    #expect(out.stderr.contains("make a first commit"), "\(out.stderr)")
    #expect(try box.git("for-each-ref", "refs/heads", in: repo) == "")
    #expect(try box.git("for-each-ref", in: repo) == "", "nothing stored, not even the plan")
    // A one-character file name in the first commit, as a user might make it.
    try Data("x\n".utf8).write(to: repo.appendingPathComponent("x"))
    try box.git("add", "x", in: repo)
    try box.git("commit", "-q", "-m", "first", in: repo)
    let again = box.orchestrate(["run", "simple.yml"], in: repo)
    expectNoCrash(again)
    #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
    #expect(Set(try Self.tree(box, "main", in: repo).keys) == ["x", "made.txt"])
  }

  @Test("a detached HEAD: main advances, HEAD stays detached where it was, the checkout is untouched")
  func detachedHead() throws {
    let box = try TemporaryRepository()
    let first = try box.git("rev-parse", "HEAD")
    try box.write("later.txt", "later\n")
    try box.git("add", "later.txt")
    try box.git("commit", "-q", "-m", "later")
    try box.git("checkout", "-q", "--detach", first)
    try box.write("plan.yml", Self.simple)
    let out = box.orchestrate("run", "plan.yml")
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    #expect(try box.git("rev-parse", "HEAD") == first)
    #expect(box.run("/usr/bin/env", ["git", "symbolic-ref", "-q", "HEAD"], in: box.url).status != 0)
    #expect(try box.mainSubjects().prefix(2) == ["Make a file", "later"])
    #expect(Set(try Self.tree(box, "main").keys) == ["README.md", "later.txt", "made.txt"])
    #expect(box.read("made.txt") == nil)
  }

  @Test("a default branch called trunk, orchestrate.mainBranch, and the plan's main_branch each choose the branch")
  func otherMainBranch() throws {
    let box = try TemporaryRepository()
    // No main at all: the branch HEAD names.
    let trunk = try box.makeRepository("trunk", branch: "trunk", files: ["a": "a\n"])
    try Data(Self.simple.utf8).write(to: trunk.appendingPathComponent("simple.yml"))
    let out = box.orchestrate(["run", "simple.yml"], in: trunk)
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    #expect(out.stdout.contains("landing on trunk"))
    #expect(Set(try Self.tree(box, "trunk", in: trunk).keys) == ["a", "made.txt"])

    // main exists but the config names another branch.
    try box.git("branch", "develop")
    try box.git("config", "orchestrate.mainBranch", "develop")
    try box.write("plan.yml", Self.simple)
    let configured = box.orchestrate("run", "plan.yml")
    #expect(configured.status == 0, "\(configured.stdout)\n\(configured.stderr)")
    #expect(try box.git("log", "-1", "--format=%s", "develop") == "Make a file")
    #expect(try box.git("log", "-1", "--format=%s", "main") == "initial")

    // The plan's main_branch wins over the config.
    try box.git("branch", "release", "main")
    var release = Self.twoSteps
    release.id = "rel"
    release.mainBranch = "release"
    try box.write("rel.yml", release.yaml)
    let planned = box.orchestrate("run", "rel.yml")
    #expect(planned.status == 0, "\(planned.stdout)\n\(planned.stderr)")
    #expect(try box.git("log", "--format=%s", "main..release").split(separator: "\n") == ["Two", "One"])

    // A main_branch that does not exist: exit 2, and no branch of it created.
    var nowhere = Self.twoSteps
    nowhere.id = "gone"
    nowhere.mainBranch = "nowhere"
    try box.write("gone.yml", nowhere.yaml)
    let missing = box.orchestrate("run", "gone.yml")
    expectNoCrash(missing)
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("'nowhere' does not exist"), "\(missing.stderr)")
    #expect(try box.git("for-each-ref", "refs/heads/orchestrate/gone", "refs/heads/nowhere") == "")
  }

  @Test("a shallow clone: two sub-tasks land, status reads the history, fsck is clean")
  func shallowClone() throws {
    let box = try TemporaryRepository()
    for n in 1...3 {
      try box.write("f\(n).txt", "\(n)\n")
      try box.git("add", "-A")
      try box.git("commit", "-q", "-m", "c\(n)")
    }
    let clone = box.root.appendingPathComponent("shallow")
    try box.git("clone", "-q", "--depth", "1", "file://" + box.url.path, clone.path, in: box.root)
    #expect(try box.git("rev-parse", "--is-shallow-repository", in: clone) == "true")
    try Data(Self.twoSteps.yaml.utf8).write(to: clone.appendingPathComponent("two.yml"))
    let out = box.orchestrate(["run", "two.yml"], in: clone)
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    #expect(try box.git("log", "--format=%s", "main", in: clone).split(separator: "\n") == ["Two", "One", "c3"])
    let status = box.orchestrate(["status", "--json", "two"], in: clone)
    #expect(status.status == 0, "\(status.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    #expect(json?["completed_subtasks"] as? [String] == ["one", "two"])
    #expect(
      Set(try Self.tree(box, "main", in: clone).keys) == [
        "README.md", "f1.txt", "f2.txt", "f3.txt", "one.txt", "two.txt",
      ])
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict"], in: clone)
    #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
  }

  @Test("extensions libgit2 1.5 refuses (worktreeConfig, an unknown one) and SHA-256: exit 2 naming it, refs untouched")
  func refusedExtensions() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.simple)
    let cases: [(setup: [[String]], expected: String)] = [
      (
        [["config", "core.repositoryformatversion", "1"], ["config", "extensions.worktreeConfig", "true"]],
        "extensions.worktreeConfig"
      ),
      (
        [["config", "core.repositoryformatversion", "1"], ["config", "extensions.frobnicate", "true"]],
        "extensions.frobnicate"
      ),
    ]
    let config = box.url.appendingPathComponent(".git/config")
    let original = try Data(contentsOf: config)
    for (setup, expected) in cases {
      let refs = try box.git("for-each-ref")
      for args in setup { _ = box.run("/usr/bin/env", ["git"] + args, in: box.url) }
      for command in [["run", "plan.yml"], ["status"], ["plan", "add", "plan.yml"]] {
        let out = box.orchestrate(command)
        expectNoCrash(out)
        #expect(out.status == 2, "\(command): \(out.stdout)\n\(out.stderr)")
        #expect(out.stderr.contains(expected), "\(out.stderr)")
        #expect(out.stderr.contains("libgit2 1.5"), "\(out.stderr)")
      }
      // git 2.39 refuses an unknown extension too: put the config file back as it was.
      try original.write(to: config)
      #expect(try box.git("for-each-ref") == refs)
    }

    let sha = try box.makeRepository("sha256", options: ["--object-format=sha256"], files: ["README": "a\n"])
    try Data(Self.simple.utf8).write(to: sha.appendingPathComponent("simple.yml"))
    let refs = try box.git("for-each-ref", in: sha)
    let out = box.orchestrate(["run", "simple.yml"], in: sha)
    expectNoCrash(out)
    #expect(out.status == 2)
    #expect(out.stderr.contains("sha256"), "\(out.stderr)")
    #expect(try box.git("for-each-ref", in: sha) == refs)
  }

  // MARK: - Content

  @Test("one-character file and folder names (a, é, x/y) are snapshotted without a crash")
  func oneCharacterNames() throws {
    let box = try TemporaryRepository(files: ["a": "a\n", "x/y": "y\n", "README.md": "# p\n"])
    try box.write(
      "plan.yml",
      """
      id: short
      subtasks:
        - id: names
          description: Short names
          run: ["echo b > b && echo é > é && mkdir -p z && echo w > z/w && rm a"]
          checkpoint: { commands: ["test -f b"] }
        - id: more
          description: More
          run: ["echo c > x/c"]
          checkpoint: { commands: ["test -f x/c"] }
      """)
    let out = box.orchestrate("run", "plan.yml")
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    #expect(Set(try Self.tree(box, "main").keys) == ["README.md", "b", "é", "x/y", "x/c", "z/w"])
  }

  @Test("a repository with a submodule: a sub-task that does not touch it keeps the gitlink as it was")
  func submoduleKept() throws {
    let box = try TemporaryRepository()
    let library = try box.makeRepository("library", files: ["lib.txt": "lib\n"], message: "lib")
    try box.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", library.path, "vendor/lib")
    try box.git("commit", "-q", "-m", "add submodule")
    let gitlink = try Self.tree(box, "main")["vendor/lib"]
    #expect(gitlink?.hasPrefix("160000 commit ") == true)
    try box.write("plan.yml", Self.twoSteps.yaml)
    let out = box.orchestrate("run", "plan.yml")
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    for rev in ["main~1", "main"] {
      let tree = try Self.tree(box, rev)
      #expect(tree["vendor/lib"] == gitlink, "\(rev): \(tree)")
      #expect(tree[".gitmodules"] != nil)
    }
    #expect(Set(try Self.tree(box, "main").keys) == [".gitmodules", "README.md", "vendor/lib", "one.txt", "two.txt"])
    #expect(box.read("vendor/lib/lib.txt") == "lib\n")
  }

  @Test(
    "symlinks, executable bits, names with spaces, unicode and newlines, file↔folder, binaries, case-only renames: the commit holds exactly what the agent left"
  )
  func contentOfEveryKind() throws {
    let box = try TemporaryRepository(files: [
      "README.md": "# p\n", "tool.sh": "#!/bin/sh\n", "thing": "a file\n", "Readme.txt": "case\n",
      "dir/inner.txt": "inner\n",
    ])
    for (name, target) in [("link-changed", "README.md"), ("link-removed", "README.md"), ("link-dangling", "nowhere")] {
      #expect(symlink(target, box.url.appendingPathComponent(name).path) == 0)
    }
    try box.git("add", "-A")
    try box.git("commit", "-q", "-m", "odd content")
    try box.write(
      "plan.yml",
      #"""
      id: content
      subtasks:
        - id: change
          description: Change everything
          run:
            - "chmod +x tool.sh"
            - "ln -sfn made.txt link-changed && rm link-removed && ln -s README.md link-new && ln -s dir link-to-dir"
            - "printf 'sp' > 'with space.txt' && printf 'u' > 'ünï😀.txt' && printf 'nl' > \"$(printf 'new\nline.txt')\""
            - "rm thing && mkdir thing && echo in > thing/inner && rm -r dir && echo now-a-file > dir"
            - "head -c 70000 /dev/urandom > random.bin && printf 'a\\000b\\377' > nul.bin"
            - "mv Readme.txt readme.txt"
            - "echo made > made.txt"
          checkpoint: { commands: ["test -x tool.sh", "test -L link-new", "test -d thing"] }
        - id: back
          description: And back
          run:
            - "rm -r thing && echo file-again > thing && rm dir && mkdir dir && echo back > dir/inner.txt"
            - "chmod -x tool.sh && rm link-dangling && mv readme.txt README.TXT"
          checkpoint: { commands: ["test -f thing", "test ! -x tool.sh"] }
      """#)
    let out = box.orchestrate("run", "plan.yml")
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")

    let first = try Self.tree(box, "main~1")
    #expect(first["tool.sh"]?.hasPrefix("100755 blob ") == true)
    #expect(first["link-changed"]?.hasPrefix("120000 blob ") == true)
    #expect(try box.git("cat-file", "-p", "main~1:link-changed") == "made.txt")
    #expect(first["link-removed"] == nil)
    #expect(first["link-new"]?.hasPrefix("120000 blob ") == true)
    #expect(first["link-to-dir"]?.hasPrefix("120000 blob ") == true)
    #expect(first["link-dangling"]?.hasPrefix("120000 blob ") == true)
    #expect(first["with space.txt"] != nil)
    #expect(first["ünï😀.txt"] != nil)
    #expect(first["new\nline.txt"] != nil)
    #expect(first["thing"] == nil)
    #expect(first["thing/inner"]?.hasPrefix("100644 blob ") == true)
    #expect(first["dir"]?.hasPrefix("100644 blob ") == true)
    #expect(first["dir/inner.txt"] == nil)
    #expect(first["Readme.txt"] == nil)
    #expect(first["readme.txt"] != nil)
    // Binary content byte for byte.
    let random = try Data(contentsOf: box.url.appendingPathComponent("random.bin"))
    #expect(random.count == 70000)
    let fromGit = box.run(
      "/usr/bin/env", ["sh", "-c", "git cat-file blob main~1:random.bin | cmp - random.bin"], in: box.url)
    #expect(fromGit.status == 0, "\(fromGit.stdout)\(fromGit.stderr)")
    #expect(try box.git("cat-file", "-s", "main~1:nul.bin") == "4")

    let last = try Self.tree(box, "main")
    #expect(last["thing"]?.hasPrefix("100644 blob ") == true)
    #expect(last["thing/inner"] == nil)
    #expect(last["dir/inner.txt"] != nil)
    #expect(last["dir"] == nil)
    #expect(last["tool.sh"]?.hasPrefix("100644 blob ") == true)
    #expect(last["link-dangling"] == nil)
    #expect(last["readme.txt"] == nil)
    #expect(last["README.TXT"] != nil)

    // Exactly what git itself makes of the working directory the agent left.
    let workdir = box.workdirRoot.appendingPathComponent("content")
    let expected = try box.treeGitWouldMake(of: workdir, base: "main")
    #expect(try box.git("rev-parse", "main^{tree}") == expected)
    // And the user's checkout shows it.
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    #expect(
      try FileManager.default.destinationOfSymbolicLink(atPath: box.url.appendingPathComponent("link-changed").path)
        == "made.txt")
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict"], in: box.url)
    #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
  }

  @Test("a 100 MB file made by an agent lands intact")
  func hundredMegabytes() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      """
      id: big
      subtasks:
        - id: big
          description: Big file
          run: ["head -c 104857600 /dev/urandom > big.bin"]
          checkpoint: { commands: ["test -s big.bin"] }
      """)
    let out = box.orchestrate("run", "plan.yml")
    expectNoCrash(out)
    #expect(out.status == 0, "\(out.stdout)\n\(out.stderr)")
    #expect(try box.git("cat-file", "-s", "main:big.bin") == "104857600")
    let workdir = box.workdirRoot.appendingPathComponent("big")
    let same = box.run(
      "/usr/bin/env",
      [
        "sh", "-c",
        "git cat-file blob main:big.bin | cmp - \(workdir.path)/big.bin && cmp big.bin \(workdir.path)/big.bin",
      ],
      in: box.url)
    #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
  }
}
