import { FileValidationError } from "../errors/FileValidationError";
import { storages } from "../storage/storages";
import { readUploadTicket, type UploadTicketClaims } from "./uploadTicket";

/** Why a ticket is refused, completing "Cannot attach the upload: …". */
export const TICKET_REFUSALS = {
  expired: "its ticket has expired; upload the file again",
  invalid: "its ticket was not issued by this server, or was altered",
} as const;

/**
 * Checks a direct-upload ticket (from `FieldFile.createUpload`) and returns what it vouches for: the
 * field (`Entity.property`), storage, key, size and content type the server signed. Use it to fill a
 * row's other columns (size, type) before `attachUpload`, which checks the ticket again along with the
 * file itself. Throws `FileValidationError` (rule `ticket`) for a ticket this server did not issue, an
 * altered or expired one, and `StorageConfigError` when no signing secret is available in production.
 */
export function verifyUploadTicket(ticket: string): UploadTicketClaims {
  const read = readUploadTicket(ticket, storages.signingKey());
  if (read.ok) return read.claims;
  throw new FileValidationError(`Cannot attach the upload: ${TICKET_REFUSALS[read.reason]}.`, { rule: "ticket" });
}
