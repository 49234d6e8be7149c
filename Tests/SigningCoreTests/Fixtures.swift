import TestFixtures

/// The repository's fixture locator (`Fixtures/`), visible to every file of this module without an import.
typealias Fixtures = TestFixtures.Fixtures
