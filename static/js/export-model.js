// What the Exports page shows of a download under way, kept apart from the
// page so it can be tested without a browser.

/** The file name of a `Content-Disposition: attachment; filename="…"` header. */
export function fileName(disposition, fallback) {
  const match = /filename="([^"]+)"/.exec(disposition || "");
  return match ? match[1] : fallback;
}

/** Bytes as people read them: 512 B, 12.3 KB, 4.5 MB (powers of 1,024). */
export function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * The status line: what is being made and how much has arrived, with the
 * share when the size is known.
 */
export function progressText(name, received, total) {
  if (total > 0) {
    const share = Math.min(100, Math.round((received * 100) / total));
    return `${name}: ${sizeText(received)} of ${sizeText(total)} (${share} %)`;
  }
  if (received === 0) return `${name}: being written…`;
  return `${name}: ${sizeText(received)} received`;
}
