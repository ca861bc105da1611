// When a report page is ready to print: the report view sets this attribute once the report
// is rendered and its charts have laid out; both printers (Electron's printToPDF and the
// headless Chromium of `ferry serve`) wait for it, so neither keys on a test id or a guess.
export const REPORT_READY_ATTR = 'data-report-ready';
export const REPORT_READY_SELECTOR = `[${REPORT_READY_ATTR}="true"]`;
