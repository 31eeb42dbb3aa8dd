import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";
import { type FieldFile, FileColumn, PrivateFileColumn } from "typeorm-storages";

export type Visibility = "public" | "private";

/**
 * One uploaded file. Public files go to the `default` storage (plain URLs); private ones to the
 * `private` storage (signed, expiring URLs only). A row uses one of the two columns.
 */
@Entity()
export class Upload {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 200 })
  title!: string;

  @Column({ type: "varchar", length: 7 })
  visibility!: Visibility;

  @FileColumn({ uploadTo: "uploads/%Y/%m/" })
  publicFile!: FieldFile;

  @PrivateFileColumn({ uploadTo: "uploads/%Y/%m/" })
  privateFile!: FieldFile;

  /** The filename the browser sent, shown (escaped) next to the stored one. */
  @Column({ type: "varchar", length: 255 })
  originalName!: string;

  // Size and type are kept in the row at upload time, so listing uploads costs no storage request.
  @Column({ type: "integer" })
  size!: number;

  @Column({ type: "varchar", length: 127 })
  contentType!: string;

  @CreateDateColumn()
  createdAt!: Date;

  /** The file this row uses: `privateFile` for private uploads, `publicFile` otherwise. */
  get file(): FieldFile {
    return this.visibility === "private" ? this.privateFile : this.publicFile;
  }

  get isImage(): boolean {
    return /^image\/(png|jpeg|gif|webp|avif)$/.test(this.contentType);
  }
}
