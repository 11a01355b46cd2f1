// What the import page sends for one file, kept apart from the page so it
// can be tested without a browser.

/**
 * The form fields of a preview or import request: the participant, the
 * encoding and one `not_speaker` field per dropped name.
 */
export function requestFields({ participant, encoding, notSpeakers }) {
  const fields = [
    ["participant_id", participant || "auto"],
    ["encoding", encoding || "auto"],
  ];
  for (const name of notSpeakers || []) fields.push(["not_speaker", name]);
  return fields;
}

/**
 * The encoding to import with: the one the importer picked, else the one
 * the preview was read in (so a guess the importer saw is what is stored),
 * else automatic (Word documents say their own).
 */
export function importEncoding(preview, picked) {
  if (picked && picked !== "auto") return picked;
  return (preview && preview.encoding) || "auto";
}

/** Why a previewed file can't be imported as it is, or null. */
export function importBlocker(preview) {
  if (!preview) return "Not previewed yet.";
  if (preview.error) return preview.error;
  if (preview.duplicate_of) {
    return `The project has this text already, as '${preview.duplicate_of}'.`;
  }
  return null;
}

/** The speakers to show: those found, then those dropped (to tick again). */
export function speakerList(preview) {
  const found = (preview.speakers || []).map((s) => ({ name: s.name, turns: s.turns, kept: true }));
  const dropped = (preview.not_speakers || [])
    .filter((name) => !found.some((s) => s.name.toLowerCase() === name.toLowerCase()))
    .map((name) => ({ name, turns: 0, kept: false }));
  return [...found, ...dropped];
}
