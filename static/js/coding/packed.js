// The coding page's data block sends its layer packed (src/coding/api.rs,
// `PackedCodings`): each code id once, and each coding as
// [id, code index, start, end, version] plus its memo when it has one. This
// gives back the codings in the API's shape, as a reload fetches them.
export function unpackCodings(packed, transcriptId, coderId) {
  const codeIds = packed.code_ids;
  return packed.rows.map(([id, code, start, end, version, memo]) => ({
    id,
    transcript_id: transcriptId,
    coder_id: coderId,
    code_id: codeIds[code],
    start,
    end,
    memo: memo ?? "",
    version,
  }));
}
