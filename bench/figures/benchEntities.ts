import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { type FieldFile, FileColumn, PrivateFileColumn } from "typeorm-storages";

/** A row with two file columns: a public one on storage "media" and a private (signed) one. */
@Entity("file_row")
export class FileRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: "varchar", length: 100 }) title!: string;
  @FileColumn("media") attachment!: FieldFile;
  @PrivateFileColumn() contract!: FieldFile;
}

/** The same row with the keys in plain varchar columns: what an application without the library stores. */
@Entity("plain_row")
export class PlainRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: "varchar", length: 100 }) title!: string;
  @Column({ type: "varchar", length: 255, nullable: true }) attachment!: string | null;
  @Column({ type: "varchar", length: 255, nullable: true }) contract!: string | null;
}

/** A realistic key of row `i`: dated prefix, cleaned filename; every tenth has a character to escape. */
export function sampleKey(i: number): string {
  const name = i % 10 === 0 ? `résumé_${i}.pdf` : `photo_${i}.jpg`;
  return `uploads/2026/05/${name}`;
}
