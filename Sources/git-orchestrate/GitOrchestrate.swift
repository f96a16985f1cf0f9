import ArgumentParser

@main
struct GitOrchestrate: ParsableCommand {}
