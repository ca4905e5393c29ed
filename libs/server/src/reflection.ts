import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { Health } from "@granary/proto/health";

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/**
 * Adds grpc.reflection (v1 and v1alpha) for the given services, so buf curl and grpcurl can call
 * them without the .proto files. The descriptors are the ones embedded in the generated code.
 */
export function addReflection(server: grpc.Server, services: readonly DescService[]): void {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  // grpc.health.v1 too (vendored in proto/grpc), so `buf curl` can call Health/Check by name.
  const described = [...services, Health];
  described.forEach((s) => visit(s.file));
  const fileDescriptorProtos = [...files.values()].map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  // The reflection service reads only `fileDescriptorProtos` from a proto-loader package definition.
  const definition = { granary: { format: "Protocol Buffer 3 FileDescriptorProto", fileDescriptorProtos } };
  new ReflectionService(definition as unknown as PackageDefinition, {
    services: described.map((s) => s.typeName),
  }).addToServer(server);
}
