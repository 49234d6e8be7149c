// The contract (algorithm names, signed text, report_data, key chain) is defined once in SigningContract;
// every module that signs through SigningCore speaks it, so SigningCore hands it on.
@_exported import SigningContract
