// A setup file for the test projects that run on the backend users get by default: importing
// `tsgrad` selects the wasm backend (worker threads and relaxed SIMD in Node).
import 'tsgrad';
